-- pgpm-verify tests 04: roles, grants and extensions.
-- Covers: verify_role, verify_membership (direct, indirect, a role is a
-- member of itself, not the other way round, unknown roles named),
-- verify_table_grant (direct grants only, to a role or PUBLIC, privilege
-- names in any case, unknown privilege refused, the named table only,
-- the owner's implicit privileges), verify_extension (installed only;
-- the HINT tells an extension that is not even available from one that is
-- available but not installed, which tests/packages.rs checks with
-- citext), with the documented errors and SQLSTATEs.
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- pv04_, so the files of this folder can run at once in one cluster).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- `expr` must raise a HINT matching the LIKE pattern `hint`
CREATE PROCEDURE pg_temp.hints(expr text, hint text)
LANGUAGE plpgsql AS $fn$
DECLARE
  h text;
BEGIN
  BEGIN
    EXECUTE 'SELECT (' || expr || ')::text';
  EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    IF h NOT LIKE hint THEN
      RAISE EXCEPTION 'FAILED: % raised HINT "%", expected "%"', expr, h, hint;
    END IF;
    RETURN;
  END;
  RAISE EXCEPTION 'FAILED: % did not raise', expr;
END;
$fn$;

-- fixtures
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE TABLE s1.tbl (id int);
CREATE TABLE s2.tbl (id int);
CREATE ROLE pv04_a NOLOGIN;
CREATE ROLE pv04_b NOLOGIN IN ROLE pv04_a;
CREATE ROLE pv04_c NOLOGIN IN ROLE pv04_b;
CREATE ROLE pv04_owner NOLOGIN;
CREATE ROLE "pv04_Mixed" NOLOGIN;
ALTER TABLE s2.tbl OWNER TO pv04_owner;

-- verify_role: names are compared literally
CALL pg_temp.ok($$public.verify_role('pv04_a')$$);
CALL pg_temp.ok($$public.verify_role('pv04_Mixed')$$);
CALL pg_temp.ok($$public.verify_role(current_user)$$);
CALL pg_temp.raises($$SELECT public.verify_role('pv04_mixed')$$, 'Nonexistent role --> pv04_mixed', '42704');
CALL pg_temp.raises($$SELECT public.verify_role('PV04_A')$$, 'Nonexistent role --> PV04_A', '42704');
CALL pg_temp.raises($$SELECT public.verify_role('pv04_nosuch')$$, 'Nonexistent role --> pv04_nosuch', '42704');
CALL pg_temp.raises($$SELECT public.verify_role(NULL)$$, 'Nonexistent role --> <NULL>', '42704');

-- verify_membership: direct or indirect, never upwards
CALL pg_temp.ok($$public.verify_membership('pv04_b', 'pv04_a')$$);
CALL pg_temp.ok($$public.verify_membership('pv04_c', 'pv04_a')$$);
CALL pg_temp.ok($$public.verify_membership('pv04_a', 'pv04_a')$$);
CALL pg_temp.raises($$SELECT public.verify_membership('pv04_a', 'pv04_c')$$, 'Nonexistent membership --> pv04_a in pv04_c', '42704');
CALL pg_temp.raises($$SELECT public.verify_membership('pv04_owner', 'pv04_a')$$, 'Nonexistent membership --> pv04_owner in pv04_a', '42704');
CALL pg_temp.raises($$SELECT public.verify_membership('pv04_nosuch', 'pv04_a')$$, 'Nonexistent role --> pv04_nosuch', '42704');
CALL pg_temp.raises($$SELECT public.verify_membership('pv04_a', 'pv04_nosuch')$$, 'Nonexistent role --> pv04_nosuch', '42704');
CALL pg_temp.raises($$SELECT public.verify_membership(NULL, 'pv04_a')$$, 'Nonexistent role --> <NULL>', '42704');

-- verify_table_grant: the table's own ACL, directly to that role
GRANT SELECT ON s1.tbl TO pv04_a;
GRANT UPDATE ON s1.tbl TO PUBLIC;
CALL pg_temp.ok($$public.verify_table_grant('s1.tbl', 'SELECT', 'pv04_a')$$);
CALL pg_temp.ok($$public.verify_table_grant('s1.tbl', ' select ', 'pv04_a')$$);
CALL pg_temp.ok($$public.verify_table_grant('s1.tbl', 'UPDATE', 'public')$$);
CALL pg_temp.ok($$public.verify_table_grant('s1.tbl', 'UPDATE', 'PUBLIC')$$);
CALL pg_temp.ok($$public.verify_table_grant('s2.tbl', 'TRUNCATE', 'pv04_owner')$$);   -- the owner's implicit privileges
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'INSERT', 'pv04_a')$$,
                   'Nonexistent table grant --> INSERT on s1.tbl to pv04_a', '42704');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s2.tbl', 'SELECT', 'pv04_a')$$,
                   'Nonexistent table grant --> SELECT on s2.tbl to pv04_a', '42704');
-- privileges that come through membership do not count
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'SELECT', 'pv04_b')$$,
                   'Nonexistent table grant --> SELECT on s1.tbl to pv04_b', '42704');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'SELECT', 'public')$$,
                   'Nonexistent table grant --> SELECT on s1.tbl to public', '42704');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'UPDATE', 'pv04_a')$$,
                   'Nonexistent table grant --> UPDATE on s1.tbl to pv04_a', '42704');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'SELEKT', 'pv04_a')$$, 'unrecognized table privilege: SELEKT', '22023');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'ALL', 'pv04_a')$$, 'unrecognized table privilege: ALL', '22023');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', NULL, 'pv04_a')$$, 'unrecognized table privilege: <NULL>', '22023');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.nope', 'SELECT', 'pv04_a')$$, 'Nonexistent table grant --> SELECT on s1.nope to pv04_a');
CALL pg_temp.raises($$SELECT public.verify_table_grant('s1.tbl', 'SELECT', 'pv04_nosuch')$$, 'Nonexistent role --> pv04_nosuch', '42704');

-- verify_extension: installed in this database
CALL pg_temp.ok($$public.verify_extension('plpgsql')$$);
CALL pg_temp.raises($$SELECT public.verify_extension('PLPGSQL')$$, 'Nonexistent extension --> PLPGSQL', '42704');
CALL pg_temp.raises($$SELECT public.verify_extension('pv04_no_such_extension')$$, 'Nonexistent extension --> pv04_no_such_extension', '42704');
CALL pg_temp.hints($$public.verify_extension('pv04_no_such_extension')$$, '%not even available%');
CALL pg_temp.raises($$SELECT public.verify_extension(NULL)$$, 'Nonexistent extension --> <NULL>', '42704');

ROLLBACK;
