-- pgpm-verify tests 02: relations and what hangs off them.
-- Covers: verify_schema, verify_table, verify_view, verify_index,
-- verify_constraint, verify_trigger, verify_security and verify_policy:
-- true for an object that exists, the documented "Nonexistent <kind> -->
-- <name>" error and SQLSTATE for a missing one, the wrong kind of relation
-- refused, no false positive from a same-named object in another schema
-- (or on another table), quoted and case-folded names, NULL arguments
-- raise, and verify_policy still true after TRUNCATE and CLUSTER (which
-- give the table a new relfilenode).
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- fixtures: s1 and s2 hold objects of the same names, but not all of them
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE SCHEMA "Mixed";
CREATE TABLE s1.tbl (id int PRIMARY KEY, x int CONSTRAINT tbl_x_check CHECK (x > 0));
CREATE INDEX tbl_x_idx ON s1.tbl (x);
CREATE TABLE s2.tbl (id int PRIMARY KEY);
CREATE TABLE s1.other (id int CONSTRAINT other_fk REFERENCES s1.tbl (id));
CREATE TABLE s1."Odd.Name" (id int);
CREATE TABLE "Mixed"."Case" (id int);
CREATE TABLE s1.parted (id int) PARTITION BY RANGE (id);
CREATE VIEW s2.v AS SELECT 1 AS a;
CREATE MATERIALIZED VIEW s2.mv AS SELECT 1 AS a;
CREATE SEQUENCE s1.seq;
CREATE TYPE s1.comp AS (a int);
CREATE FUNCTION s1.tg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER trg BEFORE INSERT ON s1.tbl FOR EACH ROW EXECUTE FUNCTION s1.tg();
CREATE TRIGGER only_in_s2 BEFORE INSERT ON s2.tbl FOR EACH ROW EXECUTE FUNCTION s1.tg();

-- verify_schema
CALL pg_temp.ok($$public.verify_schema('s1')$$);
CALL pg_temp.ok($$public.verify_schema('S1')$$);
CALL pg_temp.ok($$public.verify_schema('"Mixed"')$$);
CALL pg_temp.raises($$SELECT public.verify_schema('Mixed')$$, 'Nonexistent schema --> Mixed', '3F000');
CALL pg_temp.raises($$SELECT public.verify_schema('nosuch')$$, 'Nonexistent schema --> nosuch', '3F000');
CALL pg_temp.raises($$SELECT public.verify_schema(NULL)$$, 'Nonexistent schema --> <NULL>', '3F000');

-- verify_table: tables (ordinary and partitioned) only, in the named schema only
CALL pg_temp.ok($$public.verify_table('s1.tbl')$$);
CALL pg_temp.ok($$public.verify_table('S1.TBL')$$);
CALL pg_temp.ok($$public.verify_table('s1."Odd.Name"')$$);
CALL pg_temp.ok($$public.verify_table('"Mixed"."Case"')$$);
CALL pg_temp.ok($$public.verify_table('s1.parted')$$);
CALL pg_temp.raises($$SELECT public.verify_table('s2.other')$$, 'Nonexistent table --> s2.other', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('other')$$, 'Nonexistent table --> other', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('"Mixed".case')$$, 'Nonexistent table --> "Mixed".case', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('s2.v')$$, 'Nonexistent table --> s2.v', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('s1.seq')$$, 'Nonexistent table --> s1.seq', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('s1.tbl_pkey')$$, 'Nonexistent table --> s1.tbl_pkey', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table('nosch.tbl')$$, 'Nonexistent table --> nosch.tbl', '42P01');
CALL pg_temp.raises($$SELECT public.verify_table(NULL)$$, 'Nonexistent table --> <NULL>', '42P01');

-- verify_view: views and materialized views only
CALL pg_temp.ok($$public.verify_view('s2.v')$$);
CALL pg_temp.ok($$public.verify_view('s2.mv')$$);
CALL pg_temp.raises($$SELECT public.verify_view('s1.v')$$, 'Nonexistent view --> s1.v', '42P01');
CALL pg_temp.raises($$SELECT public.verify_view('s1.tbl')$$, 'Nonexistent view --> s1.tbl', '42P01');
CALL pg_temp.raises($$SELECT public.verify_view(NULL)$$, 'Nonexistent view --> <NULL>', '42P01');

-- verify_index: an index of that very table, by its bare name
CALL pg_temp.ok($$public.verify_index('s1.tbl', 'tbl_pkey')$$);
CALL pg_temp.ok($$public.verify_index('s1.tbl', 'tbl_x_idx')$$);
CALL pg_temp.ok($$public.verify_index('s2.tbl', 'tbl_pkey')$$);
CALL pg_temp.raises($$SELECT public.verify_index('s2.tbl', 'tbl_x_idx')$$, 'Nonexistent index --> tbl_x_idx', '42P01');
CALL pg_temp.raises($$SELECT public.verify_index('s1.other', 'tbl_pkey')$$, 'Nonexistent index --> tbl_pkey', '42P01');
CALL pg_temp.raises($$SELECT public.verify_index('s3.tbl', 'tbl_pkey')$$, 'Nonexistent index --> tbl_pkey', '42P01');
CALL pg_temp.raises($$SELECT public.verify_index('s1.tbl', 'TBL_PKEY')$$, 'Nonexistent index --> TBL_PKEY', '42P01');
CALL pg_temp.raises($$SELECT public.verify_index('s1.tbl', NULL)$$, 'Nonexistent index --> <NULL>', '42P01');

-- verify_constraint: a constraint of that very table
CALL pg_temp.ok($$public.verify_constraint('s1.tbl', 'tbl_x_check')$$);
CALL pg_temp.ok($$public.verify_constraint('s1.tbl', 'tbl_pkey')$$);
CALL pg_temp.ok($$public.verify_constraint('s1.other', 'other_fk')$$);
CALL pg_temp.raises($$SELECT public.verify_constraint('s2.tbl', 'tbl_x_check')$$, 'Nonexistent constraint --> tbl_x_check', '42704');
CALL pg_temp.raises($$SELECT public.verify_constraint('s1.other', 'tbl_x_check')$$, 'Nonexistent constraint --> tbl_x_check', '42704');
CALL pg_temp.raises($$SELECT public.verify_constraint('s9.tbl', 'tbl_x_check')$$, 'Nonexistent constraint --> tbl_x_check');
CALL pg_temp.raises($$SELECT public.verify_constraint('s1.tbl', NULL)$$, 'Nonexistent constraint --> <NULL>');

-- verify_trigger: trigger, schema.trigger (of a table in that schema) or schema.table.trigger
CALL pg_temp.ok($$public.verify_trigger('s1.trg')$$);
CALL pg_temp.ok($$public.verify_trigger('s1.tbl.trg')$$);
CALL pg_temp.ok($$public.verify_trigger('s2.only_in_s2')$$);
CALL pg_temp.raises($$SELECT public.verify_trigger('s2.trg')$$, 'Nonexistent trigger --> s2.trg', '42704');
CALL pg_temp.raises($$SELECT public.verify_trigger('s1.only_in_s2')$$, 'Nonexistent trigger --> s1.only_in_s2', '42704');
CALL pg_temp.raises($$SELECT public.verify_trigger('s1.other.trg')$$, 'Nonexistent trigger --> s1.other.trg', '42704');
CALL pg_temp.raises($$SELECT public.verify_trigger('s2.tbl.trg')$$, 'Nonexistent trigger --> s2.tbl.trg', '42704');
CALL pg_temp.raises($$SELECT public.verify_trigger('trg')$$, 'Nonexistent trigger --> trg', '42704');
CALL pg_temp.raises($$SELECT public.verify_trigger('a.b.c.d')$$, 'improper trigger name (too many dotted names): a.b.c.d', '42601');
CALL pg_temp.raises($$SELECT public.verify_trigger(NULL)$$, 'Nonexistent trigger --> <NULL>', '42704');
-- the internal triggers of a foreign key do not count
CALL pg_temp.raises($$SELECT public.verify_trigger((SELECT 's1.' || quote_ident(tgname) FROM pg_trigger
                                             WHERE tgisinternal AND tgrelid = 's1.other'::regclass LIMIT 1))$$,
                   'Nonexistent trigger --> s1.%', '42704');

-- verify_security: row level security enabled on that table
CALL pg_temp.raises($$SELECT public.verify_security('s1.tbl')$$, 'Nonexistent row level security --> s1.tbl', '42704');
ALTER TABLE s1.tbl ENABLE ROW LEVEL SECURITY;
CALL pg_temp.ok($$public.verify_security('s1.tbl')$$);
CALL pg_temp.raises($$SELECT public.verify_security('s2.tbl')$$, 'Nonexistent row level security --> s2.tbl', '42704');
CALL pg_temp.raises($$SELECT public.verify_security('s9.tbl')$$, 'Nonexistent row level security --> s9.tbl');
CALL pg_temp.raises($$SELECT public.verify_security(NULL)$$, 'Nonexistent row level security --> <NULL>');

-- verify_policy: the policy on that table, and row level security enabled
CREATE POLICY p ON s2.tbl USING (true);
CALL pg_temp.raises($$SELECT public.verify_policy('p', 's2.tbl')$$, 'Nonexistent row level security --> s2.tbl', '42704');
ALTER TABLE s2.tbl ENABLE ROW LEVEL SECURITY;
CALL pg_temp.ok($$public.verify_policy('p', 's2.tbl')$$);
CALL pg_temp.raises($$SELECT public.verify_policy('p', 's1.tbl')$$, 'Nonexistent policy --> p', '42704');
CALL pg_temp.raises($$SELECT public.verify_policy('P', 's2.tbl')$$, 'Nonexistent policy --> P', '42704');
CALL pg_temp.raises($$SELECT public.verify_policy('q', 's2.tbl')$$, 'Nonexistent policy --> q', '42704');
CALL pg_temp.raises($$SELECT public.verify_policy('p', 's9.tbl')$$, 'Nonexistent policy --> p', '42704');
-- NULL raises (the README promises no more than that for NULL arguments)
CALL pg_temp.raises($$SELECT public.verify_policy(NULL, 's2.tbl')$$, '%');
-- TRUNCATE and CLUSTER give the table a new relfilenode; the policy is still found
-- (A table created in the same subtransaction is truncated in place, so
-- the TRUNCATE runs in a subtransaction of its own: a block with EXCEPTION.)
CREATE TEMP TABLE filenodes (step text, relfilenode oid);
INSERT INTO filenodes SELECT 'created', relfilenode FROM pg_class WHERE oid = 's2.tbl'::regclass;
DO $$
BEGIN
  TRUNCATE s2.tbl;
EXCEPTION WHEN others THEN
  RAISE;
END;
$$;
INSERT INTO filenodes SELECT 'truncated', relfilenode FROM pg_class WHERE oid = 's2.tbl'::regclass;
CALL pg_temp.ok($$public.verify_policy('p', 's2.tbl')$$);
CLUSTER s2.tbl USING tbl_pkey;
INSERT INTO filenodes SELECT 'clustered', relfilenode FROM pg_class WHERE oid = 's2.tbl'::regclass;
CALL pg_temp.ok($$public.verify_policy('p', 's2.tbl')$$);
CALL pg_temp.eq($$(SELECT count(DISTINCT relfilenode) FROM filenodes)$$, '3');
CALL pg_temp.ok($$public.verify_security('s2.tbl')$$);

ROLLBACK;
