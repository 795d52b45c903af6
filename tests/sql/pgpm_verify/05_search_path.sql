-- pgpm-verify tests 05: search_path.
-- Covers: unqualified names resolve through the caller's search_path the
-- way PostgreSQL resolves them (the first schema that has a table, type or
-- schema wins; functions and triggers of every schema on the path count),
-- qualified names ignore search_path, and every function works with an
-- empty search_path (they qualify what they use and call each other as
-- public.*).
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- pv05_, so the files of this folder can run at once in one cluster).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- fixtures: "near" comes before "far" on the path below
CREATE SCHEMA near;
CREATE SCHEMA far;
CREATE SCHEMA away;
CREATE TABLE far.tbl (id int PRIMARY KEY);
CREATE VIEW near.tbl AS SELECT 1 AS id;    -- hides far.tbl
CREATE TABLE far.only_far (id int);
CREATE TABLE away.hidden (id int);
CREATE TYPE far.kind AS ENUM ('x');
CREATE DOMAIN near.kind AS int;            -- hides far.kind
CREATE FUNCTION far.fn(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION away.fn_away() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION far.sd() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT 1';
CREATE FUNCTION far.tg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER far_trg BEFORE INSERT ON far.only_far FOR EACH ROW EXECUTE FUNCTION far.tg();
CREATE TRIGGER away_trg BEFORE INSERT ON away.hidden FOR EACH ROW EXECUTE FUNCTION far.tg();
CREATE POLICY pol ON far.only_far USING (true);
ALTER TABLE far.only_far ENABLE ROW LEVEL SECURITY;
CREATE ROLE pv05_r NOLOGIN;
GRANT SELECT ON far.only_far TO pv05_r;

SET LOCAL search_path = near, far, public;
CALL pg_temp.raises($$SELECT public.verify_table('tbl')$$, 'Nonexistent table --> tbl', '42P01');  -- near.tbl is a view
CALL pg_temp.ok($$public.verify_view('tbl')$$);
CALL pg_temp.ok($$public.verify_table('far.tbl')$$);
CALL pg_temp.ok($$public.verify_table('only_far')$$);
CALL pg_temp.raises($$SELECT public.verify_table('hidden')$$, 'Nonexistent table --> hidden', '42P01');
CALL pg_temp.ok($$public.verify_domain('kind')$$);
CALL pg_temp.raises($$SELECT public.verify_domain('far.kind')$$, 'Nonexistent domain --> far.kind', '42704');
CALL pg_temp.ok($$public.verify_function('fn')$$);
CALL pg_temp.ok($$public.verify_function('fn(int)')$$);
CALL pg_temp.raises($$SELECT public.verify_function('fn_away')$$, 'Nonexistent function --> fn_away', '42883');
CALL pg_temp.ok($$public.verify_security_definer('sd')$$);
CALL pg_temp.ok($$public.verify_trigger('far_trg')$$);
CALL pg_temp.raises($$SELECT public.verify_trigger('away_trg')$$, 'Nonexistent trigger --> away_trg', '42704');
CALL pg_temp.ok($$public.verify_index('far.tbl', 'tbl_pkey')$$);
CALL pg_temp.raises($$SELECT public.verify_index('tbl', 'tbl_pkey')$$, 'Nonexistent index --> tbl_pkey', '42P01');  -- the view has none
CALL pg_temp.ok($$public.verify_policy('pol', 'only_far')$$);
CALL pg_temp.ok($$public.verify_security('only_far')$$);
CALL pg_temp.ok($$public.verify_table_grant('only_far', 'SELECT', 'pv05_r')$$);
CALL pg_temp.eq($$public.get_schema_from_str('x')$$, 'near');

-- qualified names do not depend on the path
SET LOCAL search_path = away;
CALL pg_temp.ok($$public.verify_table('far.tbl')$$);
CALL pg_temp.ok($$public.verify_function('far.fn(int)')$$);
CALL pg_temp.ok($$public.verify_trigger('far.far_trg')$$);
CALL pg_temp.ok($$public.verify_trigger('away_trg')$$);
CALL pg_temp.raises($$SELECT public.verify_table('tbl')$$, 'Nonexistent table --> tbl', '42P01');

-- an empty search_path
SET LOCAL search_path = '';
CALL pg_temp.ok($$public.verify_schema('far')$$);
CALL pg_temp.ok($$public.verify_table('far.tbl')$$);
CALL pg_temp.ok($$public.verify_view('near.tbl')$$);
CALL pg_temp.ok($$public.verify_type('far.kind')$$);
CALL pg_temp.ok($$public.verify_domain('near.kind')$$);
CALL pg_temp.ok($$public.verify_function('far.fn(integer)', 'pv05_r')$$);
CALL pg_temp.ok($$public.verify_function('far.fn')$$);
CALL pg_temp.ok($$public.verify_security_definer('far.sd')$$);
CALL pg_temp.ok($$public.verify_index('far.tbl', 'tbl_pkey')$$);
CALL pg_temp.ok($$public.verify_constraint('far.tbl', 'tbl_pkey')$$);
CALL pg_temp.ok($$public.verify_trigger('far.only_far.far_trg')$$);
CALL pg_temp.ok($$public.verify_policy('pol', 'far.only_far')$$);
CALL pg_temp.ok($$public.verify_security('far.only_far')$$);
CALL pg_temp.ok($$public.verify_table_grant('far.only_far', 'select', 'pv05_r')$$);
CALL pg_temp.ok($$public.verify_role('pv05_r')$$);
CALL pg_temp.ok($$public.verify_membership('pv05_r', 'pv05_r')$$);
CALL pg_temp.ok($$public.verify_extension('plpgsql')$$);
CALL pg_temp.raises($$SELECT public.verify_table('tbl')$$, 'Nonexistent table --> tbl', '42P01');
CALL pg_temp.raises($$SELECT public.verify_function('fn')$$, 'Nonexistent function --> fn', '42883');
CALL pg_temp.eq($$public.get_schema_from_str('x')$$, NULL);

ROLLBACK;
