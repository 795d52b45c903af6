-- app_jobs tests 01: the contract's shapes and the privilege model.
-- Covers: row types of the single-row functions, all-NULL "no row"
-- results, PUBLIC/anonymous/authenticated have no EXECUTE on any app_jobs
-- function, pinned search_path on every function (SECURITY DEFINER ones
-- included), administrator can run a whole worker loop and the admin
-- functions, authenticated cannot, no unconditional row trigger on jobs.
--
-- Run by tests/app_jobs.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind (roles it creates included).  It empties
-- the app_jobs tables inside that transaction, so run it in a fresh
-- database, or one where nothing else uses app_jobs meanwhile.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ..." (assertions are top-level DO blocks, so a passing run
-- prints nothing).

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

-- start from empty tables (inside this transaction only)
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

-- No app_jobs function is executable by PUBLIC, anonymous or authenticated,
-- and every one pins search_path.
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT p.oid::regprocedure AS fn, p.prosecdef, p.proconfig, p.prorettype
             FROM pg_proc p WHERE p.pronamespace = 'app_jobs'::regnamespace
  LOOP
    PERFORM pg_temp.ok(NOT has_function_privilege('public', f.fn, 'EXECUTE'), format('PUBLIC may execute %s', f.fn));
    PERFORM pg_temp.ok(NOT has_function_privilege('anonymous', f.fn, 'EXECUTE'), format('anonymous may execute %s', f.fn));
    PERFORM pg_temp.ok(NOT has_function_privilege('authenticated', f.fn, 'EXECUTE'), format('authenticated may execute %s', f.fn));
    PERFORM pg_temp.ok(EXISTS (SELECT 1 FROM unnest(f.proconfig) s WHERE s LIKE 'search\_path=%'),
                       format('%s does not pin search_path', f.fn));
    IF f.fn::text NOT IN ('app_jobs.tg_update_job_queue_count()', 'app_jobs.tg_apply_job_queue_count()') THEN
      PERFORM pg_temp.ok(has_function_privilege('administrator', f.fn, 'EXECUTE'), format('administrator may not execute %s', f.fn));
    END IF;
  END LOOP;
END;
$$;

-- exactly these SECURITY DEFINER functions
DO $t$ BEGIN
  PERFORM pg_temp.eq(
    (SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
      WHERE p.pronamespace = 'app_jobs'::regnamespace AND p.prosecdef),
    'tg_add_job_with_fields,tg_add_job_with_row,tg_add_job_with_row_id,tg_apply_job_queue_count,tg_update_job_queue_count',
    'SECURITY DEFINER functions');
END $t$;

-- table and schema privileges
DO $t$ BEGIN
  PERFORM pg_temp.ok(has_schema_privilege('administrator', 'app_jobs', 'USAGE'), 'administrator USAGE on app_jobs');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok(NOT has_schema_privilege('authenticated', 'app_jobs', 'USAGE'), 'authenticated has USAGE on app_jobs');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok(NOT has_schema_privilege('anonymous', 'app_jobs', 'USAGE'), 'anonymous has USAGE on app_jobs');
END $t$;
DO $$
DECLARE
  t text;
  p text;
BEGIN
  FOREACH t IN ARRAY ARRAY['app_jobs.jobs', 'app_jobs.scheduled_jobs', 'app_jobs.job_queues'] LOOP
    FOREACH p IN ARRAY ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] LOOP
      PERFORM pg_temp.ok(has_table_privilege('administrator', t, p), format('administrator lacks %s on %s', p, t));
      PERFORM pg_temp.ok(NOT has_table_privilege('authenticated', t, p), format('authenticated has %s on %s', p, t));
      PERFORM pg_temp.ok(NOT has_table_privilege('anonymous', t, p), format('anonymous has %s on %s', p, t));
      PERFORM pg_temp.ok(NOT has_table_privilege('public', t, p), format('PUBLIC has %s on %s', p, t));
    END LOOP;
  END LOOP;
  PERFORM pg_temp.ok(has_sequence_privilege('administrator', pg_get_serial_sequence('app_jobs.jobs', 'id'), 'USAGE'), 'administrator USAGE on jobs id sequence');
  PERFORM pg_temp.ok(has_sequence_privilege('administrator', pg_get_serial_sequence('app_jobs.scheduled_jobs', 'id'), 'USAGE'), 'administrator USAGE on scheduled_jobs id sequence');
END;
$$;

-- Hot path: every row trigger on jobs has a WHEN clause (queue-less jobs
-- never call a trigger function), and there is none on UPDATE of other
-- columns.
DO $t$ BEGIN
  PERFORM pg_temp.eq(
    (SELECT count(*) FROM pg_trigger t
      WHERE t.tgrelid = 'app_jobs.jobs'::regclass AND NOT t.tgisinternal
        AND (t.tgtype & 1) = 1 AND t.tgqual IS NULL),
    0::bigint, 'row triggers on app_jobs.jobs without WHEN');
END $t$;

-- Row types: get_job/complete_job/fail_job/add_job/run_scheduled_job return
-- app_jobs.jobs; "no row" is exactly one all-NULL row.
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_job('w-01')), 1::bigint, 'get_job on an empty queue returns one row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j IS NULL FROM app_jobs.get_job('w-01') AS j), 'get_job on an empty queue returns the all-NULL row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j IS NULL FROM app_jobs.complete_job('w-01', 424242) AS j), 'complete_job of an unknown job: all-NULL row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j IS NULL FROM app_jobs.fail_job('w-01', 424242, 'x') AS j), 'fail_job of an unknown job: all-NULL row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j IS NULL FROM app_jobs.run_scheduled_job(424242) AS j), 'run_scheduled_job of an unknown id: all-NULL row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j IS NULL FROM app_jobs.get_scheduled_job('w-01') AS j), 'get_scheduled_job with nothing: all-NULL row');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq(pg_typeof(app_jobs.get_job('w-01'))::text, 'app_jobs.jobs', 'get_job row type');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq(pg_typeof(app_jobs.get_scheduled_job('w-01'))::text, 'app_jobs.scheduled_jobs', 'get_scheduled_job row type');
END $t$;

-- INVALID_WORKER_ID everywhere a worker id is taken
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.get_job(NULL)$$, 'INVALID_WORKER_ID');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.complete_job(NULL, 1)$$, 'INVALID_WORKER_ID');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.fail_job(NULL, 1, 'x')$$, 'INVALID_WORKER_ID');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.release_jobs(NULL)$$, 'INVALID_WORKER_ID');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.get_scheduled_job(NULL)$$, 'INVALID_WORKER_ID');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.release_scheduled_jobs(NULL)$$, 'INVALID_WORKER_ID');
END $t$;

-- Named notation with untyped literals resolves without ambiguity.
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j.id IS NOT NULL FROM app_jobs.add_job(db_id := 'a0000000-0000-0000-0000-000000000001', identifier := 'named',
                                                                    payload := '{"a": 1}', priority := '3', run_at := '2000-01-01') AS j),
                    'add_job in named notation');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j.id IS NOT NULL FROM app_jobs.get_job(worker_id := 'w-01', task_identifiers := '{named}', job_expiry := '1 hour') AS j),
                    'get_job in named notation');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j.id IS NOT NULL FROM app_jobs.add_scheduled_job(db_id := 'a0000000-0000-0000-0000-000000000001', identifier := 'named',
                                                                              schedule_info := '{"minute": 5}') AS j),
                    'add_scheduled_job in named notation');
END $t$;
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;

-- administrator runs a whole worker loop and the admin functions.
SET LOCAL ROLE administrator;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT j.task_identifier FROM app_jobs.add_job('a0000000-0000-0000-0000-000000000001', 'mail', '{"to": "x"}', queue_name := 'q-01') AS j), 'mail', 'administrator add_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT j.task_identifier FROM app_jobs.add_job('a0000000-0000-0000-0000-000000000001', 'mail2') AS j), 'mail2', 'administrator add_job 2');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT j.locked_by FROM app_jobs.get_job('admin-worker') AS j), 'admin-worker', 'administrator get_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT j.locked_by FROM app_jobs.get_job('admin-worker') AS j), 'admin-worker', 'administrator get_job 2');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j.id IS NOT NULL FROM app_jobs.complete_job('admin-worker', (SELECT min(id) FROM app_jobs.jobs)) AS j), 'administrator complete_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT j.id IS NOT NULL FROM app_jobs.fail_job('admin-worker', (SELECT max(id) FROM app_jobs.jobs), 'boom') AS j), 'administrator fail_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.reschedule_jobs(ARRAY(SELECT id FROM app_jobs.jobs), run_at := now())), 1::bigint, 'administrator reschedule_jobs');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.permanently_fail_jobs(ARRAY(SELECT id FROM app_jobs.jobs))), 1::bigint, 'administrator permanently_fail_jobs');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.complete_jobs(ARRAY(SELECT id FROM app_jobs.jobs))), 1::bigint, 'administrator complete_jobs');
END $t$;
DO $t$ BEGIN
  PERFORM app_jobs.release_jobs('admin-worker');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT s.id IS NOT NULL FROM app_jobs.add_scheduled_job('a0000000-0000-0000-0000-000000000001', 'tick', schedule_info := '{"rule": "*/5 * * * *"}') AS s), 'administrator add_scheduled_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT s.locked_by FROM app_jobs.get_scheduled_job('admin-scheduler') AS s), 'admin-scheduler', 'administrator get_scheduled_job');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT j.task_identifier FROM app_jobs.run_scheduled_job((SELECT id FROM app_jobs.scheduled_jobs)) AS j), 'tick', 'administrator run_scheduled_job');
END $t$;
DO $t$ BEGIN
  PERFORM app_jobs.release_scheduled_jobs('admin-scheduler');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq(app_jobs.job_expiry(), interval '4 hours', 'administrator job_expiry()');
END $t$;
RESET ROLE;

-- authenticated and anonymous may not even reach the schema.
SET LOCAL ROLE authenticated;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_job('a0000000-0000-0000-0000-000000000001', 'x')$$, 'permission denied for schema app_jobs');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.get_job('intruder')$$, 'permission denied for schema app_jobs');
END $t$;
RESET ROLE;
SET LOCAL ROLE anonymous;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.complete_jobs('{1}')$$, 'permission denied for schema app_jobs');
END $t$;
RESET ROLE;

-- A role with USAGE on the schema but no grant still cannot claim,
-- complete, fail or delete: EXECUTE was revoked from PUBLIC.
DO $$
BEGIN
  EXECUTE format('CREATE ROLE %I NOLOGIN', 'app_jobs_test_nobody_' || pg_backend_pid());
  EXECUTE format('GRANT USAGE ON SCHEMA app_jobs TO %I', 'app_jobs_test_nobody_' || pg_backend_pid());
  PERFORM set_config('role', 'app_jobs_test_nobody_' || pg_backend_pid(), true);
END;
$$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.get_job('intruder')$$, 'permission denied for function %get_job');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.complete_job('intruder', 1)$$, 'permission denied for function %complete_job');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.fail_job('intruder', 1, 'x')$$, 'permission denied for function %fail_job');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.complete_jobs('{1}')$$, 'permission denied for function %complete_jobs');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT * FROM app_jobs.permanently_fail_jobs('{1}')$$, 'permission denied for function %permanently_fail_jobs');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.release_jobs('x')$$, 'permission denied for function %release_jobs');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_job('a0000000-0000-0000-0000-000000000001', 'x')$$, 'permission denied for function %add_job');
END $t$;
RESET ROLE;

ROLLBACK;
