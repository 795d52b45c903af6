-- pgpm-verify tests 01: the name helpers.
-- Covers: get_entity_from_str and get_schema_from_str (quoting, case
-- folding, the creation schema for unqualified names, too many parts),
-- list_indexes (one table only, by name or all), list_memberships
-- (transitive, the role itself, unknown role), list_functions (every
-- overload of a name, one signature, only the named schema, search_path
-- for unqualified names, NULL and unknown names give nothing).
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- pv01_, so the files of this folder can run at once in one cluster).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

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
CALL pg_temp.eq($$public.get_entity_from_str('a."B.c"')$$, 'B.c');
CALL pg_temp.eq($$public.get_schema_from_str('a."B.c"')$$, 'a');
CALL pg_temp.eq($$public.get_schema_from_str('"My S".x')$$, 'My S');
CALL pg_temp.eq($$public.get_entity_from_str('"My S"."F"')$$, 'F');
CALL pg_temp.eq($$public.get_entity_from_str('Foo')$$, 'foo');
CALL pg_temp.eq($$public.get_schema_from_str('Foo.Bar')$$, 'foo');
CALL pg_temp.eq($$public.get_schema_from_str('x')$$, 'public');
SET LOCAL search_path = s2, public;
CALL pg_temp.eq($$public.get_schema_from_str('x')$$, 's2');
SET LOCAL search_path = nosuchschema, s1;
CALL pg_temp.eq($$public.get_schema_from_str('x')$$, 's1');
RESET search_path;
CALL pg_temp.raises($$SELECT public.get_entity_from_str('a.b.c')$$, 'improper qualified name (too many dotted names): a.b.c', '42601');
CALL pg_temp.raises($$SELECT public.get_schema_from_str('a.b.c')$$, 'improper qualified name (too many dotted names): a.b.c', '42601');
CALL pg_temp.eq($$public.get_entity_from_str(NULL)$$, NULL);

-- list_indexes: the indexes of that table only
CALL pg_temp.eq($$(SELECT string_agg(index_name, ',') FROM public.list_indexes('s1.tbl', NULL))$$, 'tbl_pkey,tbl_x_idx');
CALL pg_temp.eq($$(SELECT string_agg(schema_name || '.' || table_name || ':' || index_name, ',') FROM public.list_indexes('s2.tbl', NULL))$$,
                    's2.tbl:tbl_other_idx,s2.tbl:tbl_pkey');
CALL pg_temp.eq($$(SELECT string_agg(index_name, ',') FROM public.list_indexes('s1.tbl', 'tbl_x_idx'))$$, 'tbl_x_idx');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_indexes('s1.tbl', 'tbl_other_idx'))$$, '0');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_indexes('s9.tbl', NULL))$$, '0');

-- list_memberships: transitive, and the role itself
CALL pg_temp.eq($$(SELECT string_agg(rolname, ',') FROM public.list_memberships('pv01_c'))$$, 'pv01_a,pv01_b,pv01_c');
CALL pg_temp.eq($$(SELECT string_agg(rolname, ',') FROM public.list_memberships('pv01_lone'))$$, 'pv01_lone');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_memberships('pv01_nosuch'))$$, '0');

-- list_functions: every overload of a name in that schema, or one signature
CALL pg_temp.eq($$(SELECT string_agg(f::text, ',' ORDER BY f::text) FROM public.list_functions('s1.f') AS f)$$, 's1.f(integer),s1.f(text)');
CALL pg_temp.eq($$(SELECT string_agg(f::text, ',') FROM public.list_functions('s1.f(text)') AS f)$$, 's1.f(text)');
CALL pg_temp.eq($$(SELECT string_agg(f::text, ',') FROM public.list_functions('s2.f') AS f)$$, 's2.f(bigint)');
CALL pg_temp.eq($$(SELECT string_agg(f::text, ',') FROM public.list_functions('"My S"."F"') AS f)$$, '"My S"."F"()');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_functions('"My S".f'))$$, '0');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_functions('s1.f(bigint)'))$$, '0');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_functions('s2.f(int)'))$$, '0');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_functions('f'))$$, '0');
CALL pg_temp.eq($$(SELECT count(*) FROM public.list_functions(NULL))$$, '0');
SET LOCAL search_path = s1, public;
CALL pg_temp.eq($$(SELECT string_agg(f::text, ',' ORDER BY f::text) FROM public.list_functions('f') AS f)$$, 'f(integer),f(text)');
RESET search_path;

ROLLBACK;
