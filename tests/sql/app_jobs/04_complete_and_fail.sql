-- app_jobs tests 04: complete_job and fail_job.
-- Covers: only the lock holder completes or fails (others, and unlocked
-- jobs, get the all-NULL row and change nothing); complete deletes and
-- returns the job; fail records last_error, unlocks, backs off
-- exp(least(attempts, 10)) seconds; a NULL error message is still a
-- failure; at max_attempts the job is permanently failed: kept, visible,
-- never claimed; queues are unlocked by both.
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

DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000001';
  a bigint; b bigint;
  j app_jobs.jobs;
BEGIN
  a := (app_jobs.add_job(db, 'c', '{"x": 1}')).id;
  -- an unlocked job cannot be completed or failed by anybody
  PERFORM pg_temp.ok((app_jobs.complete_job('w-04', a)).id IS NULL, 'unlocked job: complete_job refused');
  PERFORM pg_temp.ok((app_jobs.fail_job('w-04', a, 'x')).id IS NULL, 'unlocked job: fail_job refused');
  PERFORM pg_temp.eq((SELECT attempts FROM app_jobs.jobs WHERE id = a), 0, 'unchanged');

  PERFORM pg_temp.eq((app_jobs.get_job('w-04')).id, a, 'claimed');
  -- another worker
  PERFORM pg_temp.ok((app_jobs.complete_job('w-other', a)).id IS NULL, 'other worker cannot complete');
  PERFORM pg_temp.ok((app_jobs.fail_job('w-other', a, 'x')).id IS NULL, 'other worker cannot fail');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = a;
  PERFORM pg_temp.ok(j.locked_by = 'w-04' AND j.last_error IS NULL AND j.attempts = 1, 'job unchanged by the other worker');
  -- the holder
  j := app_jobs.complete_job('w-04', a);
  PERFORM pg_temp.eq(j.id, a, 'complete_job returns the job');
  PERFORM pg_temp.eq(j.payload::jsonb, '{"x": 1}'::jsonb, 'with its payload');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = a), 'completed job deleted');
  PERFORM pg_temp.ok((app_jobs.complete_job('w-04', a)).id IS NULL, 'second completion: all-NULL row');
END;
$$;

-- failure, backoff, permanent failure
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000001';
  a bigint;
  j app_jobs.jobs;
BEGIN
  a := (app_jobs.add_job(db, 'f', max_attempts := 3)).id;

  PERFORM pg_temp.eq((app_jobs.get_job('w-04')).id, a, 'attempt 1');
  j := app_jobs.fail_job('w-04', a, 'first');
  PERFORM pg_temp.eq(j.id, a, 'fail_job returns the job');
  PERFORM pg_temp.eq(j.last_error, 'first', 'last_error');
  PERFORM pg_temp.ok(j.locked_at IS NULL AND j.locked_by IS NULL, 'unlocked');
  PERFORM pg_temp.eq(j.attempts, 1, 'attempts kept');
  PERFORM pg_temp.eq(j.updated_at, now(), 'updated_at');
  PERFORM pg_temp.ok(abs(extract(epoch FROM j.run_at - now()) - exp(1)) < 0.001, format('backoff e^1 s, got %s', j.run_at - now()));
  PERFORM pg_temp.ok((app_jobs.get_job('w-04')).id IS NULL, 'not runnable during the backoff');

  UPDATE app_jobs.jobs SET run_at = now() - interval '1 second' WHERE id = a;
  PERFORM pg_temp.eq((app_jobs.get_job('w-04')).attempts, 2, 'attempt 2');
  -- NULL message: still a failure
  j := app_jobs.fail_job('w-04', a, NULL);
  PERFORM pg_temp.eq(j.id, a, 'NULL message: fail_job still acts');
  PERFORM pg_temp.eq(j.last_error, 'fail_job: no error message', 'NULL message recorded');
  PERFORM pg_temp.ok(j.locked_at IS NULL, 'NULL message: unlocked');
  PERFORM pg_temp.ok(abs(extract(epoch FROM j.run_at - now()) - exp(2)) < 0.001, format('backoff e^2 s, got %s', j.run_at - now()));

  UPDATE app_jobs.jobs SET run_at = now() - interval '1 second' WHERE id = a;
  PERFORM pg_temp.eq((app_jobs.get_job('w-04')).attempts, 3, 'attempt 3 (last)');
  j := app_jobs.fail_job('w-04', a, 'third');
  PERFORM pg_temp.ok(j.attempts >= j.max_attempts, 'permanently failed');
  -- stays, visible, never claimed even when due
  UPDATE app_jobs.jobs SET run_at = now() - interval '1 day' WHERE id = a;
  PERFORM pg_temp.ok((app_jobs.get_job('w-04')).id IS NULL, 'permanently failed job is not claimed');
  PERFORM pg_temp.eq((SELECT last_error FROM app_jobs.jobs WHERE id = a), 'third', 'permanently failed job visible with its error');

  -- the backoff is capped at e^10 seconds
  UPDATE app_jobs.jobs SET attempts = 14, max_attempts = 25, run_at = now() WHERE id = a;
  PERFORM pg_temp.eq((app_jobs.get_job('w-04')).attempts, 15, 'attempt 15');
  j := app_jobs.fail_job('w-04', a, 'again');
  PERFORM pg_temp.ok(abs(extract(epoch FROM j.run_at - now()) - exp(10)) < 0.01, format('backoff capped at e^10 s, got %s', j.run_at - now()));
END;
$$;

-- queues are unlocked by complete_job and fail_job, only by the holder
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000001';
  a bigint; b bigint;
BEGIN
  a := (app_jobs.add_job(db, 'q', queue_name := 'Q-04', run_at := now() - interval '1 minute')).id;
  b := (app_jobs.add_job(db, 'q', queue_name := 'Q-04')).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-q')).id, a, 'claim a');
  PERFORM app_jobs.complete_job('w-intruder', a);
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q-04'), 'w-q', 'queue stays locked after a foreign complete');
  PERFORM app_jobs.fail_job('w-intruder', a, 'x');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q-04'), 'w-q', 'queue stays locked after a foreign fail');
  PERFORM app_jobs.fail_job('w-q', a, 'x');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q-04'), NULL, 'queue unlocked by the holder''s fail');
  PERFORM pg_temp.eq((app_jobs.get_job('w-q2')).id, b, 'next job of the queue (a waits for its retry)');
  PERFORM app_jobs.complete_job('w-q2', b);
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q-04'), NULL, 'queue unlocked by the holder''s complete');
END;
$$;

ROLLBACK;
