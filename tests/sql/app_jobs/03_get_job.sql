-- app_jobs tests 03: get_job (the claim).
-- Covers: order priority, run_at, id (also across priority levels with
-- future jobs in between); run_at in the future, attempts >= max_attempts
-- and locked jobs are not claimed; the task filter (NULL = any, empty =
-- none); what a claim sets; lock expiry (argument, NULL -> setting
-- app_jobs.job_expiry), recovery of expired jobs (perma-failed stays
-- failed, superseded deleted); named queues: one running job per queue,
-- queue heads compete by priority with queue-less jobs, expired queue
-- locks, task filter inside queues.
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

-- empty: one all-NULL row
DO $t$ BEGIN
  PERFORM pg_temp.ok((SELECT count(*) = 1 AND bool_and(j.id IS NULL) FROM app_jobs.get_job('w-03') AS j), 'empty: one all-NULL row');
END $t$;

-- order
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  expected bigint[] := '{}';
  got bigint[] := '{}';
  j app_jobs.jobs;
  p5 bigint; p1_late bigint; p1_early bigint; p1_early2 bigint; pm bigint;
BEGIN
  p5 := (app_jobs.add_job(db, 't', run_at := now() - interval '10 minutes', priority := 5)).id;
  p1_late := (app_jobs.add_job(db, 't', run_at := now() - interval '1 minute', priority := 1)).id;
  p1_early := (app_jobs.add_job(db, 't', run_at := now() - interval '5 minutes', priority := 1)).id;
  p1_early2 := (app_jobs.add_job(db, 't', run_at := now() - interval '5 minutes', priority := 1)).id;  -- same run_at: id decides
  pm := (app_jobs.add_job(db, 't', run_at := now(), priority := -3)).id;
  -- not runnable: future, permanently failed, locked
  PERFORM app_jobs.add_job(db, 't', run_at := now() + interval '1 second', priority := -10);
  PERFORM app_jobs.add_job(db, 't', run_at := now() + interval '1 day', priority := 0);
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, attempts, max_attempts, run_at)
  VALUES (db, 't', -20, 3, 3, now() - interval '1 hour');
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, locked_at, locked_by, attempts, run_at)
  VALUES (db, 't', -20, now() - interval '1 minute', 'someone-else', 1, now() - interval '1 hour');

  expected := ARRAY[pm, p1_early, p1_early2, p1_late, p5];
  LOOP
    j := app_jobs.get_job('w-03');
    EXIT WHEN j.id IS NULL;
    got := got || j.id;
    PERFORM pg_temp.eq(j.locked_by, 'w-03', 'claim sets locked_by');
    PERFORM pg_temp.eq(j.locked_at, now(), 'claim sets locked_at');
    PERFORM pg_temp.eq(j.updated_at, now(), 'claim sets updated_at');
    PERFORM pg_temp.eq(j.attempts, 1, 'claim increments attempts');
  END LOOP;
  PERFORM pg_temp.eq(got, expected, 'claim order priority, run_at, id');
END;
$$;

-- task filter
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  a bigint; b bigint;
BEGIN
  a := (app_jobs.add_job(db, 'alpha', priority := 1)).id;
  b := (app_jobs.add_job(db, 'beta', priority := 2)).id;
  PERFORM pg_temp.ok((app_jobs.get_job('w-03', '{}')).id IS NULL, 'empty task list claims nothing');
  PERFORM pg_temp.ok((app_jobs.get_job('w-03', '{gamma}')).id IS NULL, 'unknown task claims nothing');
  PERFORM pg_temp.eq((app_jobs.get_job('w-03', '{beta,gamma}')).id, b, 'task filter');
  PERFORM pg_temp.eq((app_jobs.get_job('w-03', NULL)).id, a, 'NULL = any task');
END;
$$;

-- lock expiry
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  a bigint; dead bigint; sup bigint;
  j app_jobs.jobs;
BEGIN
  a := (app_jobs.add_job(db, 'slow')).id;
  PERFORM app_jobs.get_job('w-dead');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '5 hours' WHERE id = a;

  -- not expired for a 6 hour expiry
  PERFORM pg_temp.ok((app_jobs.get_job('w-03', job_expiry := '6 hours')).id IS NULL, 'lock younger than job_expiry is respected');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = a), 'w-dead', 'still locked by its worker');
  -- the setting is used when job_expiry is NULL
  SET LOCAL app_jobs.job_expiry = '6 hours';
  PERFORM pg_temp.ok((app_jobs.get_job('w-03', job_expiry := NULL)).id IS NULL, 'NULL job_expiry uses app_jobs.job_expiry');
  SET LOCAL app_jobs.job_expiry = '';
  -- expired for the default 4 hours: recovered and claimed again
  j := app_jobs.get_job('w-03');
  PERFORM pg_temp.eq(j.id, a, 'expired job reclaimed');
  PERFORM pg_temp.eq(j.attempts, 2, 'both attempts counted');
  PERFORM pg_temp.eq(j.locked_by, 'w-03', 'new owner');
  PERFORM pg_temp.ok(j.last_error LIKE 'lock of worker w-dead (since %) expired', 'last_error says the lock expired: ' || coalesce(j.last_error, 'NULL'));
  -- the old worker lost it
  PERFORM pg_temp.ok((app_jobs.complete_job('w-dead', a)).id IS NULL, 'stale worker cannot complete');
  PERFORM pg_temp.ok((app_jobs.fail_job('w-dead', a, 'late')).id IS NULL, 'stale worker cannot fail');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = a), 'w-03', 'job untouched by the stale worker');

  -- expired on its last attempt: released, permanently failed, not claimed
  dead := (app_jobs.add_job(db, 'last', max_attempts := 1)).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-dead2', '{last}')).id, dead, 'claimed last attempt');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '5 hours' WHERE id = dead;
  PERFORM pg_temp.ok((app_jobs.get_job('w-03', '{last}')).id IS NULL, 'expired last attempt is not claimed');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = dead;
  PERFORM pg_temp.ok(j.locked_at IS NULL AND j.attempts = j.max_attempts AND j.last_error IS NOT NULL, 'expired last attempt left permanently failed and visible');

  -- expired superseded job: deleted (its key has a newer job)
  sup := (app_jobs.add_job(db, 'sup', job_key := 'k-sup')).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-dead3', '{sup}')).id, sup, 'claimed keyed job');
  PERFORM app_jobs.add_job(db, 'sup', job_key := 'k-sup');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '5 hours' WHERE id = sup;
  j := app_jobs.get_job('w-03', '{sup}');
  PERFORM pg_temp.ok(j.id IS NOT NULL AND j.id <> sup, 'the newer keyed job is claimed');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = sup), 'expired superseded job deleted');
END;
$$;

-- named queues
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  q1a bigint; q1b bigint; q2a bigint; free bigint;
  j app_jobs.jobs;
BEGIN
  q1a := (app_jobs.add_job(db, 'q', queue_name := 'Q1', run_at := now() - interval '3 minutes')).id;
  q1b := (app_jobs.add_job(db, 'q', queue_name := 'Q1', run_at := now() - interval '2 minutes')).id;
  q2a := (app_jobs.add_job(db, 'q', queue_name := 'Q2', run_at := now() - interval '1 minutes', priority := -1)).id;
  free := (app_jobs.add_job(db, 'f', run_at := now() - interval '1 hour')).id;

  -- Q2's head has the best priority, then Q1's head is older than the free job
  PERFORM pg_temp.eq((app_jobs.get_job('w-a')).id, q2a, 'queued job with better priority first');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q2'), 'w-a', 'claim locks the queue');
  PERFORM pg_temp.eq((app_jobs.get_job('w-b')).id, free, 'free job (older run_at than Q1 head)');
  PERFORM pg_temp.eq((app_jobs.get_job('w-c')).id, q1a, 'Q1 head');
  -- Q1 is locked by w-c: q1b must wait
  PERFORM pg_temp.ok((app_jobs.get_job('w-d')).id IS NULL, 'one running job per queue');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE queue_name = 'Q1' AND locked_at IS NOT NULL), 1::bigint, 'Q1 has one running job');
  -- completing unlocks Q1
  PERFORM pg_temp.eq((app_jobs.complete_job('w-c', q1a)).id, q1a, 'complete Q1 head');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q1'), NULL, 'queue unlocked on completion');
  PERFORM pg_temp.eq((app_jobs.get_job('w-d')).id, q1b, 'next Q1 job');
  -- failing unlocks it too (and the failed job waits for its retry)
  PERFORM app_jobs.fail_job('w-d', q1b, 'nope');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q1'), NULL, 'queue unlocked on failure');

  -- an orphaned queue lock (no running job) expires like a job lock
  UPDATE app_jobs.jobs SET run_at = now() - interval '1 second' WHERE id = q1b;
  UPDATE app_jobs.job_queues SET locked_by = 'ghost', locked_at = now() - interval '1 hour' WHERE queue_name = 'Q1';
  PERFORM pg_temp.ok((app_jobs.get_job('w-e')).id IS NULL, 'queue lock younger than job_expiry holds');
  UPDATE app_jobs.job_queues SET locked_at = now() - interval '5 hours' WHERE queue_name = 'Q1';
  j := app_jobs.get_job('w-e');
  PERFORM pg_temp.eq(j.id, q1b, 'expired queue lock is taken over');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q1'), 'w-e', 'queue now locked by the new worker');
END;
$$;

-- expired job of a named queue: job and queue lock recovered together
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  a bigint;
BEGIN
  a := (app_jobs.add_job(db, 'q', queue_name := 'Q3')).id;
  PERFORM app_jobs.add_job(db, 'q', queue_name := 'Q3');
  PERFORM pg_temp.eq((app_jobs.get_job('w-crashed')).id, a, 'claimed');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '5 hours' WHERE id = a;
  UPDATE app_jobs.job_queues SET locked_at = now() - interval '5 hours' WHERE queue_name = 'Q3';
  PERFORM pg_temp.eq((app_jobs.get_job('w-f')).id, a, 'expired queued job reclaimed first (same order)');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'Q3'), 'w-f', 'queue lock moved to the new worker');
  PERFORM pg_temp.ok((app_jobs.get_job('w-g')).id IS NULL, 'still one running job in Q3');
END;
$$;

-- task filter inside queues: a queue whose head is another task still
-- serves the task asked for, and stays serial
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  x bigint; y bigint;
BEGIN
  x := (app_jobs.add_job(db, 'x', queue_name := 'Q4', run_at := now() - interval '2 minutes')).id;
  y := (app_jobs.add_job(db, 'y', queue_name := 'Q4', run_at := now() - interval '1 minutes')).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-h', '{y}')).id, y, 'task y found behind task x in Q4');
  PERFORM pg_temp.ok((app_jobs.get_job('w-i', '{x}')).id IS NULL, 'Q4 is locked while y runs');
END;
$$;

-- many priority levels with future jobs between them (the per-level probe)
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := 'c0000000-0000-0000-0000-000000000001';
  got int[] := '{}';
  j app_jobs.jobs;
BEGIN
  FOR p IN 1..6 LOOP
    PERFORM app_jobs.add_job(db, 'lv', run_at := now() + interval '1 hour', priority := p);
    IF p % 2 = 0 THEN
      PERFORM app_jobs.add_job(db, 'lv', run_at := now() - interval '1 minute', priority := p);
    END IF;
  END LOOP;
  LOOP
    j := app_jobs.get_job('w-lv');
    EXIT WHEN j.id IS NULL;
    got := got || j.priority;
  END LOOP;
  PERFORM pg_temp.eq(got, '{2,4,6}'::int[], 'due jobs of each level, in priority order');
END;
$$;

ROLLBACK;
