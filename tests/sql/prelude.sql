-- The assertions of the SQL test files under tests/sql: one vocabulary of
-- three checks that raise "FAILED: ..." when their expectation does not
-- hold.
--
--   ok(cond, what)                  cond must be true; fails with "FAILED: what"
--   ok(expr)                        expr, an SQL expression given as text, must
--                                   be true; the failure names expr, and the
--                                   error it raised, if any
--   eq(actual, expected, what)      actual must be expected (IS NOT DISTINCT)
--   eq(expr, expected)              expr (text) must evaluate to expected, as text
--   raises(stmt, message[, state])  stmt must raise exactly message (or match
--                                   it as a LIKE pattern), with SQLSTATE state
--                                   unless that is NULL
--
-- The value forms take any expression, subqueries included, so they are
-- functions, for PERFORM inside DO blocks:
--   PERFORM pg_temp.ok(EXISTS (SELECT ...), 'what is missing');
-- The text forms and raises are procedures, so that a passing CALL prints
-- nothing at top level (CALL arguments cannot hold subqueries; the text
-- forms do not need to):
--   CALL pg_temp.ok($$public.verify_schema('s1')$$);
--   CALL pg_temp.raises($$SELECT public.verify_schema('nosuch')$$, 'Nonexistent schema --> nosuch', '3F000');
--
-- How it is run: common::run_sql_file (tests/common/mod.rs) sends this file
-- and the test file as one simple-query batch; the test file's BEGIN then
-- takes these statements into its transaction, and its ROLLBACK removes
-- them. By hand:
--   psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql -f tests/sql/FOLDER/FILE.sql
-- (there the helpers live in pg_temp until the session ends).
-- Plain SQL, no psql meta-commands.

CREATE FUNCTION pg_temp.ok(cond boolean, what text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF cond IS NOT TRUE THEN
    RAISE EXCEPTION 'FAILED: %', what;
  END IF;
END;
$fn$;

CREATE PROCEDURE pg_temp.ok(expr text)
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

CREATE FUNCTION pg_temp.eq(actual anyelement, expected anyelement, what text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF actual IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'FAILED: %: got %, expected %', what, coalesce(actual::text, 'NULL'), coalesce(expected::text, 'NULL');
  END IF;
END;
$fn$;

CREATE PROCEDURE pg_temp.eq(expr text, expected text)
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

CREATE PROCEDURE pg_temp.raises(stmt text, message text, state text DEFAULT NULL)
LANGUAGE plpgsql AS $fn$
BEGIN
  BEGIN
    EXECUTE stmt;
  EXCEPTION WHEN others THEN
    IF (SQLERRM = message OR SQLERRM LIKE message) IS NOT TRUE THEN
      RAISE EXCEPTION 'FAILED: % raised "%", expected "%"', stmt, SQLERRM, message;
    END IF;
    IF state IS NOT NULL AND SQLSTATE <> state THEN
      RAISE EXCEPTION 'FAILED: % raised "%" with SQLSTATE %, expected %', stmt, SQLERRM, SQLSTATE, state;
    END IF;
    RETURN;
  END;
  RAISE EXCEPTION 'FAILED: % did not raise (expected "%")', stmt, message;
END;
$fn$;
