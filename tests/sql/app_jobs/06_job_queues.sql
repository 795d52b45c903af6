-- app_jobs tests 06: job_queues bookkeeping.
-- Covers: job_count equals the number of jobs per queue_name after
-- inserts (add_job and plain INSERT), deletes (complete_job,
-- complete_jobs, plain DELETE), moves (keyed add_job, plain UPDATE,
-- to and from NULL), the queue row disappears with its last job,
-- queue-less jobs never create rows, a forged app_jobs.touched_queues
-- creates none, TRUNCATE empties job_queues.
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

CREATE FUNCTION pg_temp.counts_match(what text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  actual text;
  expected text;
BEGIN
  SELECT string_agg(queue_name || '=' || job_count, ',' ORDER BY queue_name) INTO actual FROM app_jobs.job_queues;
  SELECT string_agg(queue_name || '=' || n, ',' ORDER BY queue_name) INTO expected
    FROM (SELECT queue_name, count(*) AS n FROM app_jobs.jobs WHERE queue_name IS NOT NULL GROUP BY queue_name) c;
  PERFORM pg_temp.eq(actual, expected, 'job_queues after ' || what);
END;
$fn$;

DO $$
DECLARE
  db constant uuid := 'f0000000-0000-0000-0000-000000000001';
  a bigint; b bigint; k bigint;
BEGIN
  FOR i IN 1..30 LOOP
    PERFORM app_jobs.add_job(db, 'free');
  END LOOP;
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_queues), 0::bigint, 'queue-less jobs create no queue rows');

  a := (app_jobs.add_job(db, 'q', queue_name := 'A')).id;
  b := (app_jobs.add_job(db, 'q', queue_name := 'A')).id;
  PERFORM app_jobs.add_job(db, 'q', queue_name := 'B');
  INSERT INTO app_jobs.jobs (database_id, task_identifier, queue_name)
  SELECT db, 'bulk', 'C' FROM generate_series(1, 5);
  PERFORM pg_temp.counts_match('inserts');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'C'), 5, 'plain INSERT of 5');

  -- keyed add_job moves a pending job between queues, to NULL and back
  k := (app_jobs.add_job(db, 'k', job_key := 'mover', queue_name := 'A')).id;
  PERFORM app_jobs.add_job(db, 'k', job_key := 'mover', queue_name := 'B');
  PERFORM pg_temp.counts_match('keyed move A -> B');
  PERFORM app_jobs.add_job(db, 'k', job_key := 'mover', queue_name := NULL);
  PERFORM pg_temp.counts_match('keyed move B -> none');
  PERFORM app_jobs.add_job(db, 'k', job_key := 'mover', queue_name := 'D');
  PERFORM pg_temp.counts_match('keyed move none -> D');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'D'), 1, 'queue D created by the move');

  UPDATE app_jobs.jobs SET queue_name = 'B' WHERE task_identifier = 'bulk' AND id % 2 = 0;
  PERFORM pg_temp.counts_match('plain UPDATE');
  UPDATE app_jobs.jobs SET payload = '{"touched": true}' WHERE queue_name IS NOT NULL;
  PERFORM pg_temp.counts_match('UPDATE of other columns');

  -- deletes
  PERFORM app_jobs.get_job('w-06', '{q}');
  PERFORM app_jobs.complete_job('w-06', a);
  PERFORM pg_temp.counts_match('complete_job');
  PERFORM app_jobs.complete_jobs(ARRAY[b]);
  PERFORM pg_temp.counts_match('complete_jobs');
  DELETE FROM app_jobs.jobs WHERE task_identifier = 'bulk';
  PERFORM pg_temp.counts_match('plain DELETE');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.job_queues WHERE queue_name IN ('A', 'C')), 'queue rows go with their last job');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.job_queues WHERE job_count <= 0), 'no empty queue rows');
END;
$$;

-- app_jobs.touched_queues is only a hint to the commit-time bookkeeping:
-- names written into it by hand lock nothing new and create no queue row
DO $t$ BEGIN
  PERFORM set_config('app_jobs.touched_queues', '{forged-1,forged-2}', true);
  PERFORM app_jobs.add_job('00000000-0000-0000-0000-000000000006', 't', queue_name := 'real-06');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.job_queues WHERE queue_name LIKE 'forged-%'), 'a forged touched_queues creates no queue row');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'real-06'), 1, 'the real queue is counted');
END $t$;

TRUNCATE app_jobs.jobs;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.job_queues), 0::bigint, 'TRUNCATE jobs empties job_queues');
END $t$;

ROLLBACK;
