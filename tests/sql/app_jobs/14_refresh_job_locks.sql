-- app_jobs tests 14: refresh_job_locks (pgpm-jobs @0.5.0), the heartbeat
-- of a live worker.
-- Covers: only the lock holder's locked jobs are refreshed (others',
-- unlocked, unknown, NULL ids skipped), all of them with job_ids NULL, the
-- ids returned, queue locks moved with their jobs (and no other worker's
-- queue), a refreshed job is not recovered by get_job's expiry while a
-- stale one is, a recovered lock is not revived, INVALID_WORKER_ID, grants,
-- pinned search_path, named notation.
--
-- Run by tests/app_jobs.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end.  It empties the app_jobs tables inside that transaction.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...".

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

-- w1 holds a (no queue) and b (queue q1); w2 holds c (queue q2); d is pending.
DO $$
DECLARE
  t constant uuid := '5b720132-17d5-424d-9bcb-ee7b17c13d43';
  a bigint; b bigint; c bigint; d bigint;
  ids bigint[];
BEGIN
  a := (app_jobs.add_job(t, 'x', priority := 1)).id;
  b := (app_jobs.add_job(t, 'x', queue_name := 'q1', priority := 2)).id;
  c := (app_jobs.add_job(t, 'x', queue_name := 'q2', priority := 3)).id;
  d := (app_jobs.add_job(t, 'x', priority := 4)).id;
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w1', batch_size := 2)), 2::bigint, 'w1 claims a and b');
  PERFORM pg_temp.eq((app_jobs.get_job('w2')).id, c, 'w2 claims c');
  -- pretend the locks are an hour old
  UPDATE app_jobs.jobs SET locked_at = now() - interval '1 hour' WHERE locked_at IS NOT NULL;
  UPDATE app_jobs.job_queues SET locked_at = now() - interval '1 hour' WHERE locked_at IS NOT NULL;

  -- given ids: only w1's locked jobs among them
  ids := ARRAY(SELECT app_jobs.refresh_job_locks('w1', ARRAY[a, c, d, NULL, -1]) ORDER BY 1);
  PERFORM pg_temp.eq(ids, ARRAY[a], 'ids refreshed: only the holder''s');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.jobs WHERE id = a), now(), 'a refreshed');
  PERFORM pg_temp.eq((SELECT updated_at FROM app_jobs.jobs WHERE id = a), now(), 'a updated_at');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.jobs WHERE id = b), now() - interval '1 hour', 'b not asked for');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.jobs WHERE id = c), now() - interval '1 hour', 'c is w2''s');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.jobs WHERE id = d), NULL::timestamptz, 'd stays unlocked');
  PERFORM pg_temp.eq((SELECT attempts FROM app_jobs.jobs WHERE id = a), 1, 'attempts unchanged');

  -- NULL: every job of w1, with its queue
  ids := ARRAY(SELECT app_jobs.refresh_job_locks(worker_id := 'w1') ORDER BY 1);
  PERFORM pg_temp.eq(ids, ARRAY[a, b], 'all of w1''s jobs');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.job_queues WHERE queue_name = 'q1'), now(), 'q1 refreshed with b');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.job_queues WHERE queue_name = 'q2'), now() - interval '1 hour', 'q2 is w2''s');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.refresh_job_locks('nobody')), 0::bigint, 'a worker without jobs');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.refresh_job_locks('w1', ARRAY[]::bigint[])), 0::bigint, 'no ids');

  -- expiry of 30 minutes: w2's stale lock is recovered, w1's fresh ones are not
  PERFORM set_config('app_jobs.job_expiry', '30 minutes', true);
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w3', job_expiry := NULL, batch_size := 10)), 2::bigint, 'w3 gets c (recovered) and d');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = a), 'w1', 'a still w1''s');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = b), 'w1', 'b still w1''s');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = c), 'w3', 'c taken over');
  -- the old holder cannot revive a recovered lock
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.refresh_job_locks('w2')), 0::bigint, 'w2 lost c');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = c), 'w3', 'c stays w3''s');
  PERFORM set_config('app_jobs.job_expiry', '', true);

  -- the holder completes as usual after refreshing
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.complete_claimed_jobs('w1', ARRAY[a, b])), 2::bigint, 'w1 completes a and b');
  PERFORM pg_temp.eq((SELECT locked_at FROM app_jobs.job_queues WHERE queue_name = 'q1'), NULL::timestamptz, 'q1 gone or unlocked');
END;
$$;

CALL pg_temp.raises($q$SELECT app_jobs.refresh_job_locks(NULL)$q$, 'INVALID_WORKER_ID');
CALL pg_temp.raises($q$SELECT app_jobs.refresh_job_locks(NULL, ARRAY[1::bigint])$q$, 'INVALID_WORKER_ID');

-- privileges: administrator only, SECURITY INVOKER, pinned search_path
DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.refresh_job_locks(text, bigint[])';
BEGIN
  PERFORM pg_temp.ok(has_function_privilege('administrator', fn, 'EXECUTE'), 'administrator may execute');
  PERFORM pg_temp.ok(NOT has_function_privilege('public', fn, 'EXECUTE'), 'PUBLIC may not');
  PERFORM pg_temp.ok(NOT has_function_privilege('authenticated', fn, 'EXECUTE'), 'authenticated may not');
  PERFORM pg_temp.ok(NOT (SELECT prosecdef FROM pg_proc WHERE oid = fn), 'SECURITY INVOKER');
  PERFORM pg_temp.ok(EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) s WHERE p.oid = fn AND s LIKE 'search\_path=%'), 'pinned search_path');
END;
$$;

-- administrator runs it (the worker's role)
SET LOCAL ROLE administrator;
SELECT count(*) FROM app_jobs.refresh_job_locks('w1');
RESET ROLE;

ROLLBACK;
