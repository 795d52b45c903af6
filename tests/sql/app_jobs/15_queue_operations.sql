-- app_jobs tests 15: operating the queue (pgpm-jobs @0.6.0): job_stats,
-- pause_queue/resume_queue, retry_failed_jobs, cancel_jobs,
-- purge_failed_jobs.
-- Covers: every state counted once (ready, scheduled, running, retrying,
-- failed, paused) per task and queue, per tenant, oldest ready age and
-- longest running; a paused queue is claimed by neither get_job nor
-- get_jobs, still takes jobs, keeps its row at job_count 0 (also through
-- TRUNCATE), resumes where it was; retry/cancel/purge scoped by ids and
-- filters, returning the rows, never touching a running job, job_count
-- exact; argument errors (22023); privileges, pinned search_path, named
-- notation.
--
-- Run by tests/app_jobs.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end.  It empties the app_jobs tables inside that transaction.  now() is
-- the transaction's start all along, so "due" means run_at <= that instant.
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
SET LOCAL app_jobs.notify = 'off';

-- 1. job_stats: one job in each state, in two tenants
DO $$
DECLARE
  t1 constant uuid := '5b720132-17d5-424d-9bcb-ee7b17c13d43';
  t2 constant uuid := '0e0e5c1b-8a7c-4c61-9d0c-2d3b1f0c9a11';
  f bigint; r bigint;
  s record;
BEGIN
  -- ready: two, one waiting since an hour
  PERFORM app_jobs.add_job(t1, 'mail', run_at := now() - interval '1 hour', priority := 5);
  PERFORM app_jobs.add_job(t1, 'mail', priority := 5);
  -- scheduled for later
  PERFORM app_jobs.add_job(t1, 'mail', run_at := now() + interval '1 day');
  -- running: claimed, lock 10 minutes old
  PERFORM app_jobs.add_job(t1, 'mail', priority := -2);
  PERFORM pg_temp.ok((app_jobs.get_job('w1', ARRAY['mail'])).priority = -2, 'w1 claims the -2 job');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '10 minutes' WHERE locked_by = 'w1';
  -- waiting for a retry: failed once of 25
  r := (app_jobs.add_job(t1, 'mail', priority := -1)).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w2', ARRAY['mail'])).id, r, 'w2 claims r');
  PERFORM app_jobs.fail_job('w2', r, 'smtp down');
  -- permanently failed: max_attempts 1
  f := (app_jobs.add_job(t1, 'mail', max_attempts := 1, priority := -1)).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w3', ARRAY['mail'])).id, f, 'w3 claims f');
  PERFORM app_jobs.fail_job('w3', f, 'bad address');
  -- paused: two jobs of a paused queue, one of them due
  PERFORM app_jobs.add_job(t1, 'mail', queue_name := 'q-paused');
  PERFORM app_jobs.add_job(t1, 'mail', queue_name := 'q-paused', run_at := now() + interval '1 day');
  PERFORM app_jobs.pause_queue('q-paused');
  -- another tenant, another task
  PERFORM app_jobs.add_job(t2, 'sms', queue_name := 'q2');

  SELECT * INTO s FROM app_jobs.job_stats() WHERE task_identifier = 'mail' AND queue_name IS NULL;
  PERFORM pg_temp.eq(s.ready, 2::bigint, 'ready');
  PERFORM pg_temp.eq(s.scheduled, 1::bigint, 'scheduled');
  PERFORM pg_temp.eq(s.running, 1::bigint, 'running');
  PERFORM pg_temp.eq(s.retrying, 1::bigint, 'retrying');
  PERFORM pg_temp.eq(s.failed, 1::bigint, 'failed');
  PERFORM pg_temp.eq(s.paused, 0::bigint, 'paused (no queue)');
  PERFORM pg_temp.eq(s.oldest_ready_age, interval '1 hour', 'oldest ready age');
  PERFORM pg_temp.eq(s.longest_running, interval '10 minutes', 'longest running');

  SELECT * INTO s FROM app_jobs.job_stats() WHERE task_identifier = 'mail' AND queue_name = 'q-paused';
  PERFORM pg_temp.eq((s.ready, s.scheduled, s.running, s.retrying, s.failed, s.paused)::text, '(0,0,0,0,0,2)', 'paused queue');
  PERFORM pg_temp.eq(s.oldest_ready_age, NULL::interval, 'no ready job: no age');

  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_stats()), 3::bigint, 'one row per task and queue');
  PERFORM pg_temp.eq((SELECT sum(ready + scheduled + running + retrying + failed + paused) FROM app_jobs.job_stats()),
                     (SELECT count(*) FROM app_jobs.jobs)::numeric, 'every job in exactly one state');
  PERFORM pg_temp.eq((SELECT array_agg(task_identifier || ':' || coalesce(queue_name, '-')) FROM app_jobs.job_stats(db_id := t2)),
                     ARRAY['sms:q2'], 'one tenant');
  PERFORM pg_temp.eq((SELECT sum(ready) FROM app_jobs.job_stats(t2)), 1::numeric, 'tenant 2 ready');
END;
$$;

-- 2. pause and resume
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.job_queues;
DO $$
DECLARE
  t constant uuid := '5b720132-17d5-424d-9bcb-ee7b17c13d43';
  a bigint; b bigint; c bigint; n bigint;
  q app_jobs.job_queues;
BEGIN
  a := (app_jobs.add_job(t, 'x', queue_name := 'qa', priority := 1)).id;
  b := (app_jobs.add_job(t, 'x', queue_name := 'qa', priority := 2)).id;
  c := (app_jobs.add_job(t, 'x', queue_name := 'qb', priority := 3)).id;

  q := app_jobs.pause_queue('qa');
  PERFORM pg_temp.eq(q.queue_name, 'qa', 'pause returns the row');
  PERFORM pg_temp.eq(q.paused_at, now(), 'paused_at');
  PERFORM pg_temp.eq(q.job_count, 2, 'job_count unchanged by pause');
  PERFORM pg_temp.eq((app_jobs.pause_queue(queue_name := 'qa')).paused_at, now(), 'pausing again keeps paused_at');

  -- get_job skips the paused queue although its jobs come first
  PERFORM pg_temp.eq((app_jobs.get_job('w1')).id, c, 'get_job takes qb, not qa');
  PERFORM pg_temp.eq((app_jobs.get_job('w2')).id, NULL::bigint, 'nothing else claimable');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w3', batch_size := 10)), 0::bigint, 'get_jobs takes nothing of qa');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w3', ARRAY['x'], job_expiry := interval '0')), 0::bigint, 'not with expiry 0 either');

  -- enqueueing still works, and is counted
  PERFORM app_jobs.add_job(t, 'x', queue_name := 'qa', priority := 9);
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'qa'), 3, 'qa counts the new job');

  -- a queue paused before it has jobs
  q := app_jobs.pause_queue('qc');
  PERFORM pg_temp.eq((q.job_count, q.locked_at IS NULL)::text, '(0,t)', 'empty paused queue row');
  PERFORM app_jobs.add_job(t, 'x', queue_name := 'qc');
  PERFORM pg_temp.eq((app_jobs.get_job('w4')).id, NULL::bigint, 'qc paused from its first job');
  -- its last job cancelled: the row stays, still paused
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.cancel_jobs(queue_name := 'qc')), 1::bigint, 'cancel qc''s job');
  PERFORM pg_temp.eq((SELECT (job_count, paused_at IS NOT NULL)::text FROM app_jobs.job_queues WHERE queue_name = 'qc'), '(0,t)', 'qc row survives count 0');
  PERFORM app_jobs.add_job(t, 'x', queue_name := 'qc');
  PERFORM pg_temp.eq((app_jobs.get_job('w4')).id, NULL::bigint, 'qc still paused');
  PERFORM app_jobs.cancel_jobs(queue_name := 'qc');
  -- resuming an empty queue drops its row
  PERFORM pg_temp.eq((app_jobs.resume_queue('qc')).job_count, 0, 'resume qc returns its row');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_queues WHERE queue_name = 'qc'), 0::bigint, 'empty queue row gone on resume');
  PERFORM pg_temp.ok((app_jobs.resume_queue('nosuch')) IS NULL, 'unknown queue: all-NULL row');

  -- the running job of qb completes; qa resumes in its order
  PERFORM app_jobs.complete_job('w1', c);
  q := app_jobs.resume_queue('qa');
  PERFORM pg_temp.eq((q.paused_at, q.job_count)::text, '(,3)', 'qa resumed');
  PERFORM pg_temp.eq((app_jobs.get_job('w5')).id, a, 'qa resumes with its first job');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w6')), 0::bigint, 'qa serial again: one at a time');
  PERFORM app_jobs.complete_job('w5', a);
  PERFORM pg_temp.eq((SELECT array_agg(id) FROM app_jobs.get_jobs('w6')), ARRAY[b], 'then b, through get_jobs');
  PERFORM pg_temp.eq((SELECT (job_count, paused_at IS NULL)::text FROM app_jobs.job_queues WHERE queue_name = 'qa'), '(2,t)', 'resumed queue row');

  -- pausing a queue whose job runs: that job finishes, nothing new starts
  PERFORM app_jobs.pause_queue('qa');
  PERFORM app_jobs.complete_job('w6', b);
  PERFORM pg_temp.eq((SELECT (job_count, locked_at IS NULL, paused_at IS NOT NULL)::text FROM app_jobs.job_queues WHERE queue_name = 'qa'),
                     '(1,t,t)', 'completed under pause: unlocked, still paused');
  PERFORM pg_temp.eq((app_jobs.get_job('w7')).id, NULL::bigint, 'nothing claimed from paused qa');

  -- TRUNCATE keeps the pause
  TRUNCATE app_jobs.jobs;
  PERFORM pg_temp.eq((SELECT array_agg((queue_name, job_count, paused_at IS NOT NULL)::text) FROM app_jobs.job_queues),
                     ARRAY['(qa,0,t)'], 'TRUNCATE keeps paused queues only, emptied');
  PERFORM app_jobs.resume_queue('qa');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_queues), 0::bigint, 'no rows left');
END;
$$;

CALL pg_temp.raises($q$SELECT app_jobs.pause_queue(NULL)$q$, 'app_jobs.pause_queue: queue_name must not be NULL%', '22023');
CALL pg_temp.raises($q$SELECT app_jobs.resume_queue(NULL)$q$, 'app_jobs.resume_queue: queue_name must not be NULL', '22023');

-- 3. retry, cancel and purge
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.job_queues;
DO $$
DECLARE
  t1 constant uuid := '5b720132-17d5-424d-9bcb-ee7b17c13d43';
  t2 constant uuid := '0e0e5c1b-8a7c-4c61-9d0c-2d3b1f0c9a11';
  f1 bigint; f2 bigint; f3 bigint; run bigint; p bigint; j app_jobs.jobs;
  ids bigint[];
BEGIN
  -- f1, f2: failed in queue qf (tenant 1), f3: failed without queue (tenant 2)
  f1 := (app_jobs.add_job(t1, 'a', queue_name := 'qf', max_attempts := 1)).id;
  f2 := (app_jobs.add_job(t1, 'b', queue_name := 'qf', max_attempts := 1)).id;
  f3 := (app_jobs.add_job(t2, 'a', max_attempts := 1)).id;
  PERFORM app_jobs.fail_job('w', (app_jobs.get_job('w')).id, 'e1');
  PERFORM app_jobs.fail_job('w', (app_jobs.get_job('w')).id, 'e2');
  PERFORM app_jobs.fail_job('w', (app_jobs.get_job('w')).id, 'e3');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE attempts >= max_attempts), 3::bigint, 'three failed');
  -- run: running on its only attempt (attempts = max_attempts while locked):
  -- running, not failed, for every function here
  run := (app_jobs.add_job(t1, 'a', max_attempts := 1, priority := -5)).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-run')).id, run, 'run claimed');
  -- p: pending
  p := (app_jobs.add_job(t1, 'a', queue_name := 'qf', run_at := now() + interval '1 hour')).id;

  -- retry by filters: task a in tenant 1 = f1 only (run is locked, p not failed)
  ids := ARRAY(SELECT id FROM app_jobs.retry_failed_jobs(task_identifier := 'a', db_id := t1));
  PERFORM pg_temp.eq(ids, ARRAY[f1], 'retry task a of tenant 1');
  SELECT * INTO j FROM app_jobs.jobs WHERE id = f1;
  PERFORM pg_temp.eq((j.attempts, j.run_at = now(), j.last_error, j.locked_at IS NULL)::text, '(0,t,e1,t)', 'f1 reset, error kept');
  PERFORM pg_temp.eq((SELECT attempts FROM app_jobs.jobs WHERE id = run), 1, 'running job untouched by retry');
  -- retry by ids with a run_at; a job that is not failed is skipped
  ids := ARRAY(SELECT id FROM app_jobs.retry_failed_jobs(ARRAY[f2, p, run, -1], run_at := now() + interval '5 minutes'));
  PERFORM pg_temp.eq(ids, ARRAY[f2], 'retry by ids: only the failed one');
  PERFORM pg_temp.eq((SELECT run_at FROM app_jobs.jobs WHERE id = f2), now() + interval '5 minutes', 'new run_at');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.retry_failed_jobs(queue_name := 'qf')), 0::bigint, 'nothing failed left in qf');
  PERFORM pg_temp.eq((SELECT ready FROM app_jobs.job_stats() WHERE task_identifier = 'a' AND queue_name = 'qf'), 1::bigint, 'f1 is ready again');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'qf'), 3, 'qf count unchanged by retry');

  -- cancel: never the running job; counts stay exact
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.cancel_jobs(ARRAY[run])), 0::bigint, 'running job not cancelled');
  ids := ARRAY(SELECT id FROM app_jobs.cancel_jobs(queue_name := 'qf', task_identifier := 'a'));
  PERFORM pg_temp.eq(ids, ARRAY[f1, p], 'cancel task a in qf');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'qf'), 1, 'qf count after cancel');
  ids := ARRAY(SELECT id FROM app_jobs.cancel_jobs(ARRAY[f2]));
  PERFORM pg_temp.eq(ids, ARRAY[f2], 'cancel by id');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_queues WHERE queue_name = 'qf'), 0::bigint, 'qf row gone with its last job');

  -- purge: f3 failed "now" (inside this transaction): not older than 1 day
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.purge_failed_jobs(interval '1 day')), 0::bigint, 'nothing old enough');
  UPDATE app_jobs.jobs SET updated_at = now() - interval '40 days' WHERE id IN (f3, run);
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.purge_failed_jobs(interval '30 days', db_id := t1)), 0::bigint, 'other tenant');
  ids := ARRAY(SELECT id FROM app_jobs.purge_failed_jobs(older_than := interval '30 days'));
  PERFORM pg_temp.eq(ids, ARRAY[f3], 'purge the old failed job, not the running one');
  PERFORM pg_temp.eq((SELECT array_agg(id) FROM app_jobs.jobs), ARRAY[run], 'only the running job is left');
END;
$$;

CALL pg_temp.raises($q$SELECT app_jobs.cancel_jobs()$q$, 'app_jobs.cancel_jobs: give job_ids, task_identifier, queue_name or db_id', '22023');
CALL pg_temp.raises($q$SELECT app_jobs.purge_failed_jobs(NULL)$q$, 'app_jobs.purge_failed_jobs: older_than must be an interval of 0 or more, got NULL', '22023');
CALL pg_temp.raises($q$SELECT app_jobs.purge_failed_jobs(interval '-1 day')$q$, 'app_jobs.purge_failed_jobs: older_than must be %', '22023');

-- 4. privileges: administrator only, SECURITY INVOKER, pinned search_path
DO $$
DECLARE
  fn regprocedure;
BEGIN
  FOREACH fn IN ARRAY ARRAY['app_jobs.job_stats(uuid)', 'app_jobs.pause_queue(text)', 'app_jobs.resume_queue(text)',
                            'app_jobs.retry_failed_jobs(bigint[], text, text, uuid, timestamptz)',
                            'app_jobs.cancel_jobs(bigint[], text, text, uuid)',
                            'app_jobs.purge_failed_jobs(interval, bigint[], text, text, uuid)']::regprocedure[] LOOP
    PERFORM pg_temp.ok(has_function_privilege('administrator', fn, 'EXECUTE'), format('administrator may execute %s', fn));
    PERFORM pg_temp.ok(NOT has_function_privilege('public', fn, 'EXECUTE'), format('PUBLIC may not execute %s', fn));
    PERFORM pg_temp.ok(NOT has_function_privilege('authenticated', fn, 'EXECUTE'), format('authenticated may not execute %s', fn));
    PERFORM pg_temp.ok(NOT has_function_privilege('anonymous', fn, 'EXECUTE'), format('anonymous may not execute %s', fn));
    PERFORM pg_temp.ok(NOT (SELECT prosecdef FROM pg_proc WHERE oid = fn), format('%s is SECURITY INVOKER', fn));
    PERFORM pg_temp.ok(EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) s WHERE p.oid = fn AND s LIKE 'search\_path=%'),
                       format('%s pins search_path', fn));
  END LOOP;
END;
$$;

-- administrator runs them (the operator's role)
SET LOCAL ROLE administrator;
SELECT count(*) FROM app_jobs.job_stats();
SELECT app_jobs.pause_queue('by-admin');
SELECT app_jobs.resume_queue('by-admin');
SELECT count(*) FROM app_jobs.retry_failed_jobs(ARRAY[-1::bigint]);
SELECT count(*) FROM app_jobs.cancel_jobs(ARRAY[-1::bigint]);
SELECT count(*) FROM app_jobs.purge_failed_jobs(interval '1 day', ARRAY[-1::bigint]);
RESET ROLE;

-- authenticated may not
SET LOCAL ROLE authenticated;
CALL pg_temp.raises($q$SELECT app_jobs.pause_queue('x')$q$, 'permission denied for %', '42501');
RESET ROLE;

ROLLBACK;
