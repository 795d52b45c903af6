-- app_jobs tests 02: add_job.
-- Covers: defaults and NULL arguments, argument errors, keyed upsert within
-- a tenant (replace fields, reset attempts/last_error, move between
-- queues), keys per tenant, a running keyed job is not overwritten (new
-- job queued, running one superseded: not retried, deleted on failure or
-- release), a permanently failed keyed job is revived, at most one
-- runnable job per key.
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

-- defaults
DO $$
DECLARE
  j app_jobs.jobs;
BEGIN
  j := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'defaults');
  PERFORM pg_temp.eq(j.database_id, 'b0000000-0000-0000-0000-000000000001'::uuid, 'database_id');
  PERFORM pg_temp.eq(j.task_identifier, 'defaults', 'task_identifier');
  PERFORM pg_temp.eq(j.payload::text, '{}', 'default payload');
  PERFORM pg_temp.eq(j.priority, 0, 'default priority');
  PERFORM pg_temp.eq(j.max_attempts, 25, 'default max_attempts');
  PERFORM pg_temp.eq(j.attempts, 0, 'attempts');
  PERFORM pg_temp.eq(j.run_at, now(), 'default run_at');
  PERFORM pg_temp.eq(j.queue_name, NULL, 'default queue_name');
  PERFORM pg_temp.eq(j.key, NULL, 'default key');
  PERFORM pg_temp.eq(j.locked_at, NULL, 'locked_at');
  PERFORM pg_temp.eq(j.created_at, now(), 'created_at');
  PERFORM pg_temp.eq(j.updated_at, now(), 'updated_at');
  PERFORM pg_temp.eq(j.superseded, false, 'superseded');

  -- explicit NULLs take the defaults too
  j := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'nulls', NULL, NULL, NULL, NULL, NULL, NULL);
  PERFORM pg_temp.eq(j.payload::text, '{}', 'NULL payload -> {}');
  PERFORM pg_temp.eq(j.run_at, now(), 'NULL run_at -> now()');
  PERFORM pg_temp.eq(j.max_attempts, 25, 'NULL max_attempts -> 25');
  PERFORM pg_temp.eq(j.priority, 0, 'NULL priority -> 0');

  -- given values are kept
  j := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'given', '{"n": 1, "s": "x"}', NULL, 'q-02', now() + interval '1 hour', 3, -5);
  PERFORM pg_temp.eq(j.payload::jsonb, '{"n": 1, "s": "x"}'::jsonb, 'payload');
  PERFORM pg_temp.eq(j.queue_name, 'q-02', 'queue_name');
  PERFORM pg_temp.eq(j.run_at, now() + interval '1 hour', 'run_at');
  PERFORM pg_temp.eq(j.max_attempts, 3, 'max_attempts');
  PERFORM pg_temp.eq(j.priority, -5, 'priority');
END;
$$;

-- argument errors
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_job(NULL, 'x')$$, 'app_jobs.add_job: db_id must not be NULL');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_job('b0000000-0000-0000-0000-000000000001', NULL)$$, 'app_jobs.add_job: identifier (the task) must not be NULL');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'x', max_attempts := 0)$$, 'app_jobs.add_job: max_attempts must be at least 1, got 0');
END $t$;

-- keyed upsert of a pending job
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  a app_jobs.jobs;
  b app_jobs.jobs;
BEGIN
  a := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-task', '{"v": 1}', 'key-1', 'q-a', now() - interval '1 minute', 5, 1);
  -- pretend it failed twice
  UPDATE app_jobs.jobs SET attempts = 2, last_error = 'earlier failure' WHERE id = a.id;
  b := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-task-2', '{"v": 2}', 'key-1', 'q-b', now() + interval '1 day', 7, 2);
  PERFORM pg_temp.eq(b.id, a.id, 'same key, same tenant: same job');
  PERFORM pg_temp.eq(b.task_identifier, 'k-task-2', 'replaced task_identifier');
  PERFORM pg_temp.eq(b.payload::jsonb, '{"v": 2}'::jsonb, 'replaced payload');
  PERFORM pg_temp.eq(b.queue_name, 'q-b', 'replaced queue_name');
  PERFORM pg_temp.eq(b.run_at, now() + interval '1 day', 'replaced run_at');
  PERFORM pg_temp.eq(b.max_attempts, 7, 'replaced max_attempts');
  PERFORM pg_temp.eq(b.priority, 2, 'replaced priority');
  PERFORM pg_temp.eq(b.attempts, 0, 'attempts reset');
  PERFORM pg_temp.eq(b.last_error, NULL, 'last_error reset');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 1::bigint, 'one row for the key');
  -- the job moved from q-a to q-b
  PERFORM pg_temp.eq((SELECT string_agg(queue_name || '=' || job_count, ',' ORDER BY queue_name) FROM app_jobs.job_queues), 'q-b=1', 'job_count follows the move');

  -- the same key in another tenant is another job
  b := app_jobs.add_job('b0000000-0000-0000-0000-000000000002', 'k-task', '{"v": 3}', 'key-1');
  PERFORM pg_temp.ok(b.id <> a.id, 'keys are per tenant');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE key = 'key-1'), 2::bigint, 'two tenants, two jobs');
END;
$$;

-- a running keyed job is not overwritten
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  a app_jobs.jobs;
  b app_jobs.jobs;
  c app_jobs.jobs;
  r app_jobs.jobs;
BEGIN
  a := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-run', '{"v": 1}', 'key-run');
  r := app_jobs.get_job('w-02');
  PERFORM pg_temp.eq(r.id, a.id, 'claimed the keyed job');
  b := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-run', '{"v": 2}', 'key-run');
  PERFORM pg_temp.ok(b.id <> a.id, 'a running keyed job gets a new job');
  PERFORM pg_temp.eq(b.key, 'key-run', 'the new job holds the key');
  PERFORM pg_temp.eq(b.payload::jsonb, '{"v": 2}'::jsonb, 'new payload on the new job');
  SELECT * INTO r FROM app_jobs.jobs WHERE id = a.id;
  PERFORM pg_temp.eq(r.payload::jsonb, '{"v": 1}'::jsonb, 'running job not overwritten');
  PERFORM pg_temp.eq(r.locked_by, 'w-02', 'running job still locked by its worker');
  PERFORM pg_temp.eq(r.key, NULL, 'running job gave up its key');
  PERFORM pg_temp.eq(r.superseded, true, 'running job is superseded');
  -- and again while b is pending: b is replaced, no third job
  c := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-run', '{"v": 3}', 'key-run');
  PERFORM pg_temp.eq(c.id, b.id, 'pending new job replaced');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 2::bigint, 'running + one pending');
  -- at most one runnable job per key
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE locked_at IS NULL AND attempts < max_attempts
                                                      AND (key = 'key-run' OR id = a.id)), 1::bigint, 'one runnable job for the key');
  -- the superseded job is not retried when it fails: it is deleted
  r := app_jobs.fail_job('w-02', a.id, 'boom');
  PERFORM pg_temp.eq(r.id, a.id, 'fail_job of a superseded job returns it');
  PERFORM pg_temp.eq(r.last_error, 'boom', 'with the error');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = a.id), 'superseded job deleted on failure');
  PERFORM pg_temp.ok(EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = b.id AND locked_at IS NULL), 'new job still pending');
END;
$$;

-- superseded job released at shutdown: deleted, not run again
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  a app_jobs.jobs;
  b app_jobs.jobs;
BEGIN
  a := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-rel', '{}', 'key-rel');
  PERFORM app_jobs.get_job('w-02b');
  b := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-rel', '{}', 'key-rel');
  PERFORM app_jobs.release_jobs('w-02b');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = a.id), 'superseded job deleted by release_jobs');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 1::bigint, 'only the new job left');
  -- a superseded job that completes is simply removed
  PERFORM pg_temp.eq((app_jobs.get_job('w-02c')).id, b.id, 'new job claimable');
  PERFORM app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-rel', '{}', 'key-rel');
  PERFORM pg_temp.eq((app_jobs.complete_job('w-02c', b.id)).id, b.id, 'superseded job completes normally');
END;
$$;

-- a permanently failed keyed job is revived by add_job with its key
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  a app_jobs.jobs;
  b app_jobs.jobs;
BEGIN
  a := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-dead', '{}', 'key-dead', max_attempts := 1);
  PERFORM app_jobs.get_job('w-02d');
  PERFORM app_jobs.fail_job('w-02d', a.id, 'fatal');
  PERFORM pg_temp.eq((SELECT attempts >= max_attempts FROM app_jobs.jobs WHERE id = a.id), true, 'permanently failed');
  b := app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'k-dead', '{"again": true}', 'key-dead', max_attempts := 2);
  PERFORM pg_temp.eq(b.id, a.id, 'same job revived');
  PERFORM pg_temp.eq(b.attempts, 0, 'attempts reset');
  PERFORM pg_temp.eq(b.last_error, NULL, 'last_error reset');
  PERFORM pg_temp.eq((app_jobs.get_job('w-02d')).id, a.id, 'runnable again');
END;
$$;

-- many calls with one key in one transaction: one job, last payload wins
DELETE FROM app_jobs.jobs;
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    PERFORM app_jobs.add_job('b0000000-0000-0000-0000-000000000001', 'debounce', json_build_object('i', i), 'key-many');
  END LOOP;
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 1::bigint, 'one job per key');
  PERFORM pg_temp.eq((SELECT payload->>'i' FROM app_jobs.jobs), '50', 'last payload wins');
END;
$$;

ROLLBACK;
