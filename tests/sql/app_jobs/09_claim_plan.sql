-- app_jobs tests 09: the claim reads only what it claims.
-- Covers: with 20,000 future jobs, 5,000 running, 5,000 permanently failed
-- and 5,000 jobs queued behind a busy named queue, get_job claims the few
-- runnable jobs without a sequential scan of app_jobs.jobs and fetching
-- only a handful of rows through indexes (the future, locked, failed and
-- queued rows are never read); the same with plpgsql's generic plans; an
-- idle poll (nothing runnable) is as cheap; job_queues, bloated by the
-- 5,000 counter updates of the busy queue's load, is read through its
-- partial index, never sequentially; add_job of a queue-less job
-- touches no job_queues row.  Measured with pg_stat_xact_user_tables
-- (this transaction's own counters).
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

CREATE FUNCTION pg_temp.reads() RETURNS TABLE (seq_scan bigint, idx_tup_fetch bigint, seq_tup_read bigint, queue_seq_scan bigint)
LANGUAGE sql AS $fn$
  SELECT s.seq_scan, s.idx_tup_fetch, s.seq_tup_read,
         (SELECT q.seq_scan FROM pg_stat_xact_user_tables q WHERE q.relid = 'app_jobs.job_queues'::regclass)
    FROM pg_stat_xact_user_tables s WHERE s.relid = 'app_jobs.jobs'::regclass
$fn$;

DO $$
DECLARE
  db constant uuid := '40000000-0000-0000-0000-000000000001';
BEGIN
  -- future jobs at the best priority: in front of everything in the index order
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, run_at)
  SELECT db, 'future', 0, now() + (i || ' seconds')::interval FROM generate_series(1, 20000) i;
  -- running jobs
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, attempts, locked_at, locked_by, run_at)
  SELECT db, 'running', 0, 1, now(), 'busy-' || i, now() - interval '1 hour' FROM generate_series(1, 5000) i;
  -- permanently failed jobs
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, attempts, max_attempts, last_error, run_at)
  SELECT db, 'failed', 0, 3, 3, 'gave up', now() - interval '1 hour' FROM generate_series(1, 5000) i;
  -- a backlog behind a busy named queue
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, queue_name, run_at)
  SELECT db, 'queued', 0, 'busy-queue', now() - interval '1 hour' FROM generate_series(1, 5000) i;
  UPDATE app_jobs.job_queues SET locked_at = now(), locked_by = 'queue-holder' WHERE queue_name = 'busy-queue';
  -- the only runnable jobs, at a worse priority
  INSERT INTO app_jobs.jobs (database_id, task_identifier, priority, run_at)
  SELECT db, 'due', 5, now() - (i || ' minutes')::interval FROM generate_series(1, 3) i;
END;
$$;
ANALYZE app_jobs.jobs;
ANALYZE app_jobs.job_queues;

CREATE TEMPORARY TABLE claimed (mode text, id bigint, task text, seq_scans bigint, fetched bigint, queue_seq_scans bigint) ON COMMIT DROP;

DO $$
DECLARE
  before record;
  after record;
  j app_jobs.jobs;
  mode text;
BEGIN
  FOREACH mode IN ARRAY ARRAY['auto', 'force_generic_plan'] LOOP
    PERFORM set_config('plan_cache_mode', mode, true);
    FOR i IN 1..4 LOOP   -- 3 claims, then an idle poll
      SELECT * INTO before FROM pg_temp.reads();
      j := app_jobs.get_job('w-09-' || mode);
      SELECT * INTO after FROM pg_temp.reads();
      INSERT INTO pg_temp.claimed VALUES (mode, j.id, j.task_identifier, after.seq_scan - before.seq_scan, after.idx_tup_fetch - before.idx_tup_fetch,
                                        coalesce(after.queue_seq_scan, 0) - coalesce(before.queue_seq_scan, 0));
    END LOOP;
    -- give the three jobs back for the next round
    UPDATE app_jobs.jobs SET locked_at = NULL, locked_by = NULL, attempts = 0 WHERE task_identifier = 'due';
  END LOOP;
  PERFORM set_config('plan_cache_mode', 'auto', true);
END;
$$;

DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM pg_temp.claimed LOOP
    RAISE DEBUG 'claim % % % seq_scans=% fetched=%', c.mode, c.id, c.task, c.seq_scans, c.fetched;
    PERFORM pg_temp.eq(c.seq_scans, 0::bigint, format('sequential scans of jobs during a claim (%s)', c.mode));
    PERFORM pg_temp.eq(c.queue_seq_scans, 0::bigint, format('sequential scans of job_queues during a claim (%s)', c.mode));
    PERFORM pg_temp.ok(c.fetched <= 10, format('a claim fetched %s rows (%s): it must not read future, locked, failed or queued rows', c.fetched, c.mode));
  END LOOP;
  PERFORM pg_temp.eq((SELECT count(*) FROM pg_temp.claimed WHERE task = 'due'), 6::bigint, 'claimed the three due jobs in both modes');
  PERFORM pg_temp.eq((SELECT count(*) FROM pg_temp.claimed WHERE id IS NULL), 2::bigint, 'then idle polls');
END;
$$;

-- queue bookkeeping is paid only by queued jobs
DO $$
DECLARE
  before bigint;
BEGIN
  SELECT n_tup_ins + n_tup_upd + n_tup_del INTO before FROM pg_stat_xact_user_tables WHERE relid = 'app_jobs.job_queues'::regclass;
  FOR i IN 1..100 LOOP
    PERFORM app_jobs.add_job('40000000-0000-0000-0000-000000000001', 'plain');
  END LOOP;
  PERFORM pg_temp.eq((SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relid = 'app_jobs.job_queues'::regclass),
                     before, 'queue-less jobs write no job_queues row');
  PERFORM app_jobs.add_job('40000000-0000-0000-0000-000000000001', 'queued', queue_name := 'busy-queue');
  PERFORM pg_temp.ok((SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE relid = 'app_jobs.job_queues'::regclass) > before,
                     'a queued job does');
END;
$$;

ROLLBACK;
