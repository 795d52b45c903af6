-- app_jobs tests 05: admin functions and release_jobs.
-- Covers: complete_jobs, permanently_fail_jobs, reschedule_jobs act on
-- unlocked or expired jobs only, with the one configurable expiry
-- (setting app_jobs.job_expiry, default 4 hours; bad values raise);
-- expired locks and their queue locks are released; NULL arguments of
-- reschedule_jobs keep values; release_jobs unlocks one worker's jobs and
-- queues and undoes the claim's attempt.
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

-- the setting
DO $$
BEGIN
  SET LOCAL app_jobs.job_expiry = '';
  PERFORM pg_temp.eq(app_jobs.job_expiry(), interval '4 hours', 'default expiry');
  SET LOCAL app_jobs.job_expiry = '15 minutes';
  PERFORM pg_temp.eq(app_jobs.job_expiry(), interval '15 minutes', 'configured expiry');
  SET LOCAL app_jobs.job_expiry = '-1 hour';
  CALL pg_temp.raises($q$SELECT app_jobs.job_expiry()$q$, 'app_jobs.job_expiry must not be negative, got -1 hour');
  SET LOCAL app_jobs.job_expiry = 'soon';
  CALL pg_temp.raises($q$SELECT app_jobs.job_expiry()$q$, 'invalid input syntax for type interval: "soon"');
  SET LOCAL app_jobs.job_expiry = '';
END;
$$;

-- fixture: u = unlocked, r = running (10 minutes), e = running expired for
-- the default (5 hours) in queue QE, p = running 30 minutes
CREATE TEMPORARY TABLE ids (name text PRIMARY KEY, id bigint) ON COMMIT DROP;
DO $$
DECLARE
  db constant uuid := 'e0000000-0000-0000-0000-000000000001';
BEGIN
  INSERT INTO pg_temp.ids VALUES
    ('u', (app_jobs.add_job(db, 'u')).id),
    ('r', (app_jobs.add_job(db, 'r')).id),
    ('e', (app_jobs.add_job(db, 'e', queue_name := 'QE')).id),
    ('p', (app_jobs.add_job(db, 'p')).id);
  PERFORM app_jobs.add_job(db, 'e2', queue_name := 'QE');  -- keeps QE alive
  PERFORM app_jobs.get_job('w-r', '{r}');
  PERFORM app_jobs.get_job('w-e', '{e}');
  PERFORM app_jobs.get_job('w-p', '{p}');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '10 minutes' WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'r');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '5 hours' WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'e');
  UPDATE app_jobs.job_queues SET locked_at = now() - interval '5 hours' WHERE queue_name = 'QE';
  UPDATE app_jobs.jobs SET locked_at = now() - interval '30 minutes' WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'p');
END;
$$;

-- reschedule_jobs: u and e (expired) only
SAVEPOINT s;
DO $$
DECLARE
  rows app_jobs.jobs[];
  j app_jobs.jobs;
BEGIN
  SELECT array_agg(r ORDER BY r.task_identifier) INTO rows
    FROM app_jobs.reschedule_jobs(ARRAY(SELECT id FROM pg_temp.ids), run_at := now() + interval '1 hour', priority := 7) AS r;
  PERFORM pg_temp.eq((SELECT array_agg(r.task_identifier) FROM unnest(rows) r), '{e,u}'::text[], 'reschedule_jobs acts on unlocked and expired jobs');
  FOREACH j IN ARRAY rows LOOP
    PERFORM pg_temp.ok(j.run_at = now() + interval '1 hour' AND j.priority = 7, 'run_at and priority set');
    PERFORM pg_temp.eq(j.max_attempts, 25, 'NULL max_attempts keeps the value');
    PERFORM pg_temp.ok(j.locked_at IS NULL AND j.locked_by IS NULL, 'rescheduled jobs are unlocked');
  END LOOP;
  PERFORM pg_temp.eq((SELECT attempts FROM unnest(rows) r WHERE r.task_identifier = 'e'), 1, 'NULL attempts keeps the value');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'QE'), NULL, 'the expired job''s queue lock is released');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'r')), 'w-r', 'running job untouched');
  -- attempts and max_attempts
  SELECT r.* INTO j FROM app_jobs.reschedule_jobs(ARRAY[(SELECT id FROM pg_temp.ids WHERE name = 'u')], attempts := 0, max_attempts := 9) AS r;
  PERFORM pg_temp.ok(j.attempts = 0 AND j.max_attempts = 9 AND j.priority = 7, 'attempts/max_attempts set, priority kept');
END;
$$;
ROLLBACK TO SAVEPOINT s;

-- a shorter configured expiry widens the set: r (10 min) and p (30 min)
SAVEPOINT s;
DO $$
BEGIN
  SET LOCAL app_jobs.job_expiry = '20 minutes';
  PERFORM pg_temp.eq((SELECT array_agg(r.task_identifier ORDER BY r.task_identifier)
                        FROM app_jobs.reschedule_jobs(ARRAY(SELECT id FROM pg_temp.ids)) AS r),
                     '{e,p,u}'::text[], 'app_jobs.job_expiry = 20 minutes');
  SET LOCAL app_jobs.job_expiry = '';
END;
$$;
ROLLBACK TO SAVEPOINT s;

-- permanently_fail_jobs
SAVEPOINT s;
DO $$
DECLARE
  j app_jobs.jobs;
BEGIN
  PERFORM pg_temp.eq((SELECT array_agg(r.task_identifier ORDER BY r.task_identifier)
                        FROM app_jobs.permanently_fail_jobs(ARRAY(SELECT id FROM pg_temp.ids)) AS r),
                     '{e,u}'::text[], 'permanently_fail_jobs acts on unlocked and expired jobs');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'u');
  PERFORM pg_temp.ok(j.attempts = j.max_attempts AND j.last_error = 'Manually marked as failed', 'default message, attempts = max_attempts');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'e');
  PERFORM pg_temp.ok(j.locked_at IS NULL AND j.attempts = j.max_attempts, 'expired job unlocked and failed');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'QE'), NULL, 'its queue lock is released');
  PERFORM pg_temp.eq((SELECT last_error FROM app_jobs.permanently_fail_jobs(ARRAY[(SELECT id FROM pg_temp.ids WHERE name = 'u')], 'bad data')),
                     'bad data', 'given message');
  PERFORM pg_temp.ok((app_jobs.get_job('w-x', '{u,e}')).id IS NULL, 'permanently failed jobs are not claimed');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE attempts >= max_attempts), 2::bigint, 'and stay visible');
END;
$$;
ROLLBACK TO SAVEPOINT s;

-- complete_jobs
SAVEPOINT s;
DO $$
BEGIN
  PERFORM pg_temp.eq((SELECT array_agg(r.task_identifier ORDER BY r.task_identifier)
                        FROM app_jobs.complete_jobs(ARRAY(SELECT id FROM pg_temp.ids)) AS r),
                     '{e,u}'::text[], 'complete_jobs acts on unlocked and expired jobs');
  PERFORM pg_temp.eq((SELECT array_agg(task_identifier ORDER BY task_identifier) FROM app_jobs.jobs), '{e2,p,r}'::text[], 'running jobs left');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'QE'), NULL, 'the expired job''s queue lock is released');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'QE'), 1, 'job_count follows');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.complete_jobs('{}')), 0::bigint, 'empty list');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.complete_jobs(NULL)), 0::bigint, 'NULL list');
END;
$$;
ROLLBACK TO SAVEPOINT s;

-- release_jobs
DO $$
DECLARE
  j app_jobs.jobs;
BEGIN
  -- w-e also holds the queue QE
  PERFORM app_jobs.release_jobs('w-e');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'e');
  PERFORM pg_temp.ok(j.locked_at IS NULL AND j.locked_by IS NULL, 'released job unlocked');
  PERFORM pg_temp.eq(j.attempts, 0, 'the claimed attempt is undone');
  PERFORM pg_temp.eq(j.updated_at, now(), 'updated_at');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'QE'), NULL, 'queue released');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.jobs WHERE id = (SELECT id FROM pg_temp.ids WHERE name = 'r')), 'w-r', 'other workers'' jobs untouched');
  PERFORM app_jobs.release_jobs('w-nobody');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE locked_by IS NOT NULL), 2::bigint, 'unknown worker: no change');
END;
$$;

ROLLBACK;
