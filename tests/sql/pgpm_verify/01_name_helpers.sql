-- pgpm-verify tests 01: the name helpers.
-- Covers: get_entity_from_str and get_schema_from_str (quoting, case
-- folding, the creation schema for unqualified names, too many parts),
-- list_indexes (one table only, by name or all), list_memberships
-- (transitive, the role itself, unknown role), list_functions (every
-- overload of a name, one signature, only the named schema, search_path
-- for unqualified names, NULL and unknown names give nothing).
--
-- Run with: psql -v ON_ERROR_STOP=1 -X -q -f THIS_FILE, as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- pv01_, so the files of this folder can run at once in one cluster).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- Helpers live in pg_temp; like everything else here they vanish at ROLLBACK.
-- They are procedures, so that a passing CALL prints nothing.

-- `expr` (an SQL expression, usually one verify_* call) must return true.
CREATE PROCEDURE pg_temp.holds(expr text)
LANGUAGE plpgsql AS $fn$
DECLARE
  result text;
BEGIN
  BEGIN
    EXECUTE 'SELECT (' || expr || ')::text' INTO result;
  EXCEPTION WHEN others THEN
    RAISE EXCEPTION 'FAILED: % raised "%" (SQLSTATE %), expected true', expr, SQLERRM, SQLSTATE;
  END;
  IF result IS DISTINCT FROM 'true' THEN
    RAISE EXCEPTION 'FAILED: % returned %, expected true', expr, coalesce(result, 'NULL');
  END IF;
END;
$fn$;

-- `expr` must raise exactly `message` (or match it as a LIKE pattern),
-- with SQLSTATE `state` unless that is NULL.
CREATE PROCEDURE pg_temp.fails(expr text, message text, state text DEFAULT NULL)
LANGUAGE plpgsql AS $fn$
DECLARE
  result text;
BEGIN
  BEGIN
    EXECUTE 'SELECT (' || expr || ')::text' INTO result;
  EXCEPTION WHEN others THEN
    IF NOT (SQLERRM = message OR SQLERRM LIKE message) THEN
      RAISE EXCEPTION 'FAILED: % raised "%", expected "%"', expr, SQLERRM, message;
    END IF;
    IF state IS NOT NULL AND SQLSTATE <> state THEN
      RAISE EXCEPTION 'FAILED: % raised "%" with SQLSTATE %, expected %', expr, SQLERRM, SQLSTATE, state;
    END IF;
    RETURN;
  END;
  RAISE EXCEPTION 'FAILED: % returned % instead of raising "%"', expr, coalesce(result, 'NULL'), message;
END;
$fn$;

-- `actual` (an SQL expression) must evaluate to `expected` (as text).
CREATE PROCEDURE pg_temp.yields(expr text, expected text)
LANGUAGE plpgsql AS $fn$
DECLARE
  result text;
BEGIN
  EXECUTE 'SELECT (' || expr || ')::text' INTO result;
  IF result IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'FAILED: % gave %, expected %', expr, coalesce(result, 'NULL'), coalesce(expected, 'NULL');
  END IF;
END;
$fn$;

-- fixtures
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE SCHEMA "My S";
CREATE TABLE s1.tbl (id int PRIMARY KEY, x int);
CREATE INDEX tbl_x_idx ON s1.tbl (x);
CREATE TABLE s2.tbl (id int PRIMARY KEY, x int);
CREATE INDEX tbl_other_idx ON s2.tbl (x);
CREATE FUNCTION s1.f(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION s1.f(text) RETURNS int LANGUAGE sql AS 'SELECT 2';
CREATE FUNCTION s2.f(bigint) RETURNS int LANGUAGE sql AS 'SELECT 3';
CREATE FUNCTION "My S"."F"() RETURNS int LANGUAGE sql AS 'SELECT 4';
CREATE ROLE pv01_a NOLOGIN;
CREATE ROLE pv01_b NOLOGIN IN ROLE pv01_a;
CREATE ROLE pv01_c NOLOGIN IN ROLE pv01_b;
CREATE ROLE pv01_lone NOLOGIN;

-- get_entity_from_str / get_schema_from_str
CALL pg_temp.yields($$public.get_entity_from_str('a."B.c"')$$, 'B.c');
CALL pg_temp.yields($$public.get_schema_from_str('a."B.c"')$$, 'a');
CALL pg_temp.yields($$public.get_schema_from_str('"My S".x')$$, 'My S');
CALL pg_temp.yields($$public.get_entity_from_str('"My S"."F"')$$, 'F');
CALL pg_temp.yields($$public.get_entity_from_str('Foo')$$, 'foo');
CALL pg_temp.yields($$public.get_schema_from_str('Foo.Bar')$$, 'foo');
CALL pg_temp.yields($$public.get_schema_from_str('x')$$, 'public');
SET LOCAL search_path = s2, public;
CALL pg_temp.yields($$public.get_schema_from_str('x')$$, 's2');
SET LOCAL search_path = nosuchschema, s1;
CALL pg_temp.yields($$public.get_schema_from_str('x')$$, 's1');
RESET search_path;
CALL pg_temp.fails($$public.get_entity_from_str('a.b.c')$$, 'improper qualified name (too many dotted names): a.b.c', '42601');
CALL pg_temp.fails($$public.get_schema_from_str('a.b.c')$$, 'improper qualified name (too many dotted names): a.b.c', '42601');
CALL pg_temp.yields($$public.get_entity_from_str(NULL)$$, NULL);

-- list_indexes: the indexes of that table only
CALL pg_temp.yields($$(SELECT string_agg(index_name, ',') FROM public.list_indexes('s1.tbl', NULL))$$, 'tbl_pkey,tbl_x_idx');
CALL pg_temp.yields($$(SELECT string_agg(schema_name || '.' || table_name || ':' || index_name, ',') FROM public.list_indexes('s2.tbl', NULL))$$,
                    's2.tbl:tbl_other_idx,s2.tbl:tbl_pkey');
CALL pg_temp.yields($$(SELECT string_agg(index_name, ',') FROM public.list_indexes('s1.tbl', 'tbl_x_idx'))$$, 'tbl_x_idx');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_indexes('s1.tbl', 'tbl_other_idx'))$$, '0');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_indexes('s9.tbl', NULL))$$, '0');

-- list_memberships: transitive, and the role itself
CALL pg_temp.yields($$(SELECT string_agg(rolname, ',') FROM public.list_memberships('pv01_c'))$$, 'pv01_a,pv01_b,pv01_c');
CALL pg_temp.yields($$(SELECT string_agg(rolname, ',') FROM public.list_memberships('pv01_lone'))$$, 'pv01_lone');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_memberships('pv01_nosuch'))$$, '0');

-- list_functions: every overload of a name in that schema, or one signature
CALL pg_temp.yields($$(SELECT string_agg(f::text, ',' ORDER BY f::text) FROM public.list_functions('s1.f') AS f)$$, 's1.f(integer),s1.f(text)');
CALL pg_temp.yields($$(SELECT string_agg(f::text, ',') FROM public.list_functions('s1.f(text)') AS f)$$, 's1.f(text)');
CALL pg_temp.yields($$(SELECT string_agg(f::text, ',') FROM public.list_functions('s2.f') AS f)$$, 's2.f(bigint)');
CALL pg_temp.yields($$(SELECT string_agg(f::text, ',') FROM public.list_functions('"My S"."F"') AS f)$$, '"My S"."F"()');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_functions('"My S".f'))$$, '0');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_functions('s1.f(bigint)'))$$, '0');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_functions('s2.f(int)'))$$, '0');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_functions('f'))$$, '0');
CALL pg_temp.yields($$(SELECT count(*) FROM public.list_functions(NULL))$$, '0');
SET LOCAL search_path = s1, public;
CALL pg_temp.yields($$(SELECT string_agg(f::text, ',' ORDER BY f::text) FROM public.list_functions('f') AS f)$$, 'f(integer),f(text)');
RESET search_path;

ROLLBACK;
