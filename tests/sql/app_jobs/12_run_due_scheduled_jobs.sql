-- app_jobs tests 12: the in-database scheduler, run_due_scheduled_jobs.
-- The clock is passed in explicitly (`now`), in the past so that spawned
-- jobs can be claimed.  Covers: a due slot fires once (repeated calls,
-- calls with a clock that went back), the spawned job (fields of the
-- definition, run_at = slot, key), the recorded slot; the previous run
-- still pending / waiting for a retry / running within job_expiry skips
-- the slot (not deferred), while a permanently failed, completed or
-- expired one does not, nor a running job with the key outside
-- job_expiry; catch-up "latest" (default) fires only the latest missed
-- slot, optionally only within catchupWindow; "backfill" fires every slot
-- within the window (default 1 hour), oldest first, the key on the newest;
-- max_jobs across definitions and a backfill cut short continuing as one
-- batch; definitions claimed by get_scheduled_job are left alone; end and
-- never-again schedules stop; run_scheduled_job still works beside it;
-- administrator can run it; named notation.
--
-- Run by tests/app_jobs.rs and tests/scheduling.rs through
-- common::run_sql_file, which sends tests/sql/prelude.sql (the checks ok, eq
-- and raises) and this file as one batch; by hand: psql -v ON_ERROR_STOP=1
-- -X -q -f tests/sql/prelude.sql -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end.  It empties the app_jobs tables inside that transaction.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ..." (a passing run prints nothing).

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

-- the slots fired by one call, in order
CREATE FUNCTION pg_temp.fire(at timestamptz, max_jobs integer DEFAULT 1000) RETURNS timestamptz[]
LANGUAGE sql AS $fn$
  SELECT coalesce(array_agg(r.slot ORDER BY r.slot), '{}')
    FROM app_jobs.run_due_scheduled_jobs(at, max_jobs) AS r;
$fn$;

-- a definition, due from `first`
CREATE FUNCTION pg_temp.def(task text, info json, first timestamptz, job_key text DEFAULT NULL) RETURNS bigint
LANGUAGE sql AS $fn$
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info, key, next_run_at)
  VALUES ('10000000-0000-0000-0000-000000000001', task, info, job_key, first)
  RETURNING id;
$fn$;

-- remove every pending job (as if workers had run them)
CREATE FUNCTION pg_temp.drain() RETURNS void
LANGUAGE sql AS $fn$
  SELECT app_jobs.complete_jobs(ARRAY(SELECT id FROM app_jobs.jobs WHERE locked_at IS NULL));
  SELECT;
$fn$;

DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

-- fire once per slot; the spawned job; what is recorded
DO $$
DECLARE
  sid bigint;
  r record;
  j app_jobs.jobs;
  s app_jobs.scheduled_jobs;
BEGIN
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, payload, queue_name, priority, max_attempts, key, schedule_info, next_run_at)
  VALUES ('10000000-0000-0000-0000-000000000001', 'tick', '{"p": 1}', NULL, 3, 4, 'tick-key', '{"rule": "* * * * *"}', '2024-06-01 10:00+00')
  RETURNING id INTO sid;

  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 09:59:59+00'), '{}'::timestamptz[], 'not due yet');
  SELECT * INTO r FROM app_jobs.run_due_scheduled_jobs('2024-06-01 10:00:00+00');
  PERFORM pg_temp.ok(r.scheduled_job_id = sid AND r.slot = '2024-06-01 10:00+00' AND r.job_id IS NOT NULL, 'fired at the slot: ' || r::text);
  j := (SELECT x FROM app_jobs.jobs x WHERE x.id = r.job_id);
  PERFORM pg_temp.ok(j.database_id = '10000000-0000-0000-0000-000000000001' AND j.task_identifier = 'tick' AND j.payload::jsonb = '{"p": 1}'
                     AND j.priority = 3 AND j.max_attempts = 4 AND j.key = 'tick-key' AND j.run_at = '2024-06-01 10:00+00',
                     'the job copies the definition, run_at = slot: ' || j::text);
  s := (SELECT x FROM app_jobs.scheduled_jobs x WHERE x.id = sid);
  PERFORM pg_temp.ok(s.next_run_at = '2024-06-01 10:01+00' AND s.last_slot = '2024-06-01 10:00+00'
                     AND s.last_scheduled_id = j.id AND s.last_scheduled = now(), 'recorded: ' || s::text);

  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00:00+00'), '{}'::timestamptz[], 'the same call again: nothing');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00:59+00'), '{}'::timestamptz[], 'later in the same minute: nothing');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 09:00:00+00'), '{}'::timestamptz[], 'a clock that went back: nothing');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 1::bigint, 'one job');

  -- the previous job is pending: the 10:01 slot is skipped, not deferred
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:01:00+00'), '{}'::timestamptz[], 'previous job pending: skipped');
  s := (SELECT x FROM app_jobs.scheduled_jobs x WHERE x.id = sid);
  PERFORM pg_temp.ok(s.next_run_at = '2024-06-01 10:02+00' AND s.last_slot = '2024-06-01 10:00+00', 'skipped slot consumed: ' || s::text);
  PERFORM pg_temp.drain();
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:01:30+00'), '{}'::timestamptz[], 'the skipped slot does not come back');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:02:00+00'), ARRAY['2024-06-01 10:02+00']::timestamptz[], 'next slot fires once the job is done');
END;
$$;

-- which previous jobs block (as run_scheduled_job's ALREADY_SCHEDULED)
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  sid bigint;
  jid bigint;
BEGIN
  sid := pg_temp.def('blk', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq(cardinality(pg_temp.fire('2024-06-01 10:00+00')), 1, 'first run');
  jid := (SELECT last_scheduled_id FROM app_jobs.scheduled_jobs WHERE id = sid);

  -- running, lock fresh: blocks
  PERFORM pg_temp.eq((app_jobs.get_job('w-12', '{blk}')).id, jid, 'claimed');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:01+00'), '{}'::timestamptz[], 'running job blocks');
  -- running for 30 minutes: blocks with the default job_expiry (1 hour) ...
  UPDATE app_jobs.jobs SET locked_at = now() - interval '30 minutes' WHERE id = jid;
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:02+00'), '{}'::timestamptz[], 'lock younger than job_expiry blocks');
  -- ... not with job_expiry 10 minutes, nor with NULL = the setting when it is 10 minutes
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.run_due_scheduled_jobs('2024-06-01 10:03+00', job_expiry := '10 minutes')), 1::bigint,
                     'lock older than job_expiry does not block');
  PERFORM pg_temp.drain();
  PERFORM app_jobs.complete_jobs(ARRAY[jid]);

  -- waiting for a retry blocks
  jid := (SELECT last_scheduled_id FROM app_jobs.scheduled_jobs WHERE id = sid);
  PERFORM pg_temp.ok(jid IS NULL OR NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = jid), 'drained');
  PERFORM pg_temp.eq(cardinality(pg_temp.fire('2024-06-01 10:04+00')), 1, 'fires after completion');
  jid := (SELECT last_scheduled_id FROM app_jobs.scheduled_jobs WHERE id = sid);
  PERFORM pg_temp.eq((app_jobs.get_job('w-12', '{blk}')).id, jid, 'claimed again');
  PERFORM app_jobs.fail_job('w-12', jid, 'transient');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:05+00'), '{}'::timestamptz[], 'waiting for a retry blocks');
  -- permanently failed does not
  UPDATE app_jobs.jobs SET attempts = max_attempts WHERE id = jid;
  PERFORM pg_temp.eq(cardinality(pg_temp.fire('2024-06-01 10:06+00')), 1, 'permanently failed previous job does not block');
END;
$$;

-- a running job holding the definition's key blocks within job_expiry
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  sid bigint;
  other bigint;
BEGIN
  sid := pg_temp.def('sync', '{"rule": "* * * * *"}', '2024-06-01 10:00+00', 'sync-key');
  other := (app_jobs.add_job('10000000-0000-0000-0000-000000000001', 'sync', '{}', 'sync-key', run_at := '2024-01-01')).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-12k')).id, other, 'keyed job running');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00+00'), '{}'::timestamptz[], 'running keyed job blocks');
  UPDATE app_jobs.jobs SET locked_at = now() - interval '2 hours' WHERE id = other;
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:01+00'), ARRAY['2024-06-01 10:01+00']::timestamptz[], 'not once its lock is older than job_expiry');
  PERFORM pg_temp.ok((SELECT key = 'sync-key' FROM app_jobs.jobs WHERE id = (SELECT last_scheduled_id FROM app_jobs.scheduled_jobs WHERE id = sid)),
                     'the spawned job took the key');
  -- run_scheduled_job beside it: the same previous-job rule, in both directions
  BEGIN
    PERFORM app_jobs.run_scheduled_job(sid);
    RAISE EXCEPTION 'FAILED: run_scheduled_job did not raise ALREADY_SCHEDULED';
  EXCEPTION WHEN raise_exception THEN
    PERFORM pg_temp.eq(SQLERRM, 'ALREADY_SCHEDULED', 'run_scheduled_job sees the job run_due spawned');
  END;
  PERFORM pg_temp.drain();
  PERFORM pg_temp.ok((app_jobs.run_scheduled_job(sid)).id IS NOT NULL, 'run_scheduled_job spawns once it is done');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:02+00'), '{}'::timestamptz[], 'and run_due sees the job run_scheduled_job spawned');
END;
$$;

-- catch-up "latest" (the default): only the latest missed slot fires
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  a bigint;
  b bigint;
  c bigint;
BEGIN
  a := pg_temp.def('latest', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 13:30:30+00'), ARRAY['2024-06-01 13:30+00']::timestamptz[], '3.5 hours down: the latest minute once');
  PERFORM pg_temp.eq((SELECT next_run_at FROM app_jobs.scheduled_jobs WHERE id = a), '2024-06-01 13:31+00'::timestamptz, 'then the next one');
  -- a window: the latest slot fires only when it is recent enough
  b := pg_temp.def('latest-window', '{"rule": "0 * * * *", "catchupWindow": "10 minutes"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 13:30+00'), '{}'::timestamptz[], 'latest slot (13:00) older than the window: dropped');
  PERFORM pg_temp.eq((SELECT next_run_at FROM app_jobs.scheduled_jobs WHERE id = b), '2024-06-01 14:00+00'::timestamptz, 'dropped slots consumed');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 14:05+00'), ARRAY['2024-06-01 14:00+00']::timestamptz[], 'within the window: fires');
  -- a daily job after a week of downtime, with a time zone
  DELETE FROM app_jobs.scheduled_jobs WHERE id IN (a, b);
  PERFORM pg_temp.drain();
  c := pg_temp.def('daily', '{"rule": "0 3 * * *", "tz": "Europe/Berlin"}', '2024-06-01 01:00+00');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-08 12:00+00'), ARRAY['2024-06-08 01:00+00']::timestamptz[], 'a week down: today''s 03:00 Berlin once');
  PERFORM pg_temp.eq((SELECT next_run_at FROM app_jobs.scheduled_jobs WHERE id = c), '2024-06-09 01:00+00'::timestamptz, 'then tomorrow');
END;
$$;

-- catch-up "backfill": every missed slot within the window, oldest first
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  a bigint;
  b bigint;
  keys text[];
  run_ats timestamptz[];
BEGIN
  a := pg_temp.def('bf', '{"rule": "*/15 * * * *", "catchup": "backfill", "catchupWindow": "1 hour"}', '2024-06-01 10:00+00', 'bf-key');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 13:20+00'),
                     ARRAY['2024-06-01 12:30+00', '2024-06-01 12:45+00', '2024-06-01 13:00+00', '2024-06-01 13:15+00']::timestamptz[],
                     'slots of the last hour');
  SELECT array_agg(key ORDER BY run_at), array_agg(run_at ORDER BY run_at) INTO keys, run_ats FROM app_jobs.jobs WHERE task_identifier = 'bf';
  PERFORM pg_temp.eq(keys, ARRAY[NULL, NULL, NULL, 'bf-key'], 'only the newest job carries the key');
  PERFORM pg_temp.eq(run_ats[1], '2024-06-01 12:30+00'::timestamptz, 'run_at is the slot');
  PERFORM pg_temp.ok((SELECT next_run_at = '2024-06-01 13:30+00' AND last_slot = '2024-06-01 13:15+00'
                             AND last_scheduled_id = (SELECT id FROM app_jobs.jobs WHERE key = 'bf-key')
                        FROM app_jobs.scheduled_jobs WHERE id = a), 'recorded the newest');
  -- the batch's jobs are pending: the next slot is skipped
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 13:30+00'), '{}'::timestamptz[], 'backfilled jobs pending: skipped');
  PERFORM pg_temp.drain();
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 13:45+00'), ARRAY['2024-06-01 13:45+00']::timestamptz[], 'on time: one slot');

  -- default window: 1 hour
  PERFORM pg_temp.drain();
  b := pg_temp.def('bf-default', '{"rule": "0,30 * * * *", "catchup": "backfill"}', '2024-06-01 00:00+00');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 05:10+00'), ARRAY['2024-06-01 04:30+00', '2024-06-01 05:00+00']::timestamptz[], 'default window 1 hour');
END;
$$;

-- max_jobs: across definitions, and a backfill cut short continues as one batch
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  a bigint;
  b bigint;
  c bigint;
BEGIN
  a := pg_temp.def('m1', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  b := pg_temp.def('m2', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  c := pg_temp.def('m3', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq(cardinality(pg_temp.fire('2024-06-01 10:00+00', 2)), 2, 'max_jobs 2: two definitions');
  PERFORM pg_temp.eq((SELECT array_agg(id ORDER BY id) FROM app_jobs.scheduled_jobs WHERE next_run_at <= '2024-06-01 10:00+00'), ARRAY[c], 'the third is still due');
  PERFORM pg_temp.eq(cardinality(pg_temp.fire('2024-06-01 10:00:10+00', 2)), 1, 'the next call fires it');
  DELETE FROM app_jobs.scheduled_jobs;
  PERFORM pg_temp.drain();

  a := pg_temp.def('cut', '{"rule": "*/10 * * * *", "catchup": "backfill", "catchupWindow": "1 hour"}', '2024-06-01 09:00+00', 'cut-key');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 11:05+00', 4),
                     ARRAY['2024-06-01 10:10+00', '2024-06-01 10:20+00', '2024-06-01 10:30+00', '2024-06-01 10:40+00']::timestamptz[], 'first 4 of 6');
  PERFORM pg_temp.eq((SELECT next_run_at FROM app_jobs.scheduled_jobs WHERE id = a), '2024-06-01 10:50+00'::timestamptz, 'the rest stays due');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 11:05+00', 4),
                     ARRAY['2024-06-01 10:50+00', '2024-06-01 11:00+00']::timestamptz[], 'the batch continues despite its pending jobs');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'cut'), 6::bigint, 'six jobs');
  PERFORM pg_temp.eq((SELECT array_agg(run_at) FROM app_jobs.jobs WHERE key = 'cut-key'), ARRAY['2024-06-01 11:00+00']::timestamptz[], 'the newest has the key');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 11:10+00', 4), '{}'::timestamptz[], 'then the pending batch blocks the next slot');
END;
$$;

-- claimed definitions belong to their scheduler; ends; never again
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  a bigint;
  b bigint;
  c bigint;
BEGIN
  a := pg_temp.def('claimed', '{"rule": "* * * * *"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('ext-scheduler')).id, a, 'claimed by an external scheduler');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00+00'), '{}'::timestamptz[], 'a claimed definition is left alone');
  PERFORM app_jobs.release_scheduled_jobs('ext-scheduler');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00+00'), ARRAY['2024-06-01 10:00+00']::timestamptz[], 'released: fired');
  DELETE FROM app_jobs.scheduled_jobs WHERE id = a;
  PERFORM pg_temp.drain();

  b := pg_temp.def('ending', '{"rule": "0 * * * *", "end": "2024-06-01T11:00:00Z"}', '2024-06-01 10:00+00');
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 10:00+00'), ARRAY['2024-06-01 10:00+00']::timestamptz[], 'before the end');
  PERFORM pg_temp.drain();
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-01 11:00+00'), ARRAY['2024-06-01 11:00+00']::timestamptz[], 'at the end (inclusive)');
  PERFORM pg_temp.ok((SELECT next_run_at IS NULL FROM app_jobs.scheduled_jobs WHERE id = b), 'after its end: next_run_at NULL');
  PERFORM pg_temp.drain();
  PERFORM pg_temp.eq(pg_temp.fire('2024-06-02 00:00+00'), '{}'::timestamptz[], 'nothing more');
END;
$$;

-- administrator runs it (named notation); the result's shape
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DO $$ BEGIN PERFORM pg_temp.def('admin', '{"rule": "* * * * *"}', '2024-06-01 10:00+00'); END $$;
SET LOCAL ROLE administrator;
CREATE TEMP TABLE admin_fired AS
  SELECT * FROM app_jobs.run_due_scheduled_jobs(now := '2024-06-01 10:00+00', max_jobs := 10, job_expiry := NULL);
RESET ROLE;
DO $$
BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM pg_temp.admin_fired), 1::bigint, 'administrator fired one');
  PERFORM pg_temp.eq((SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                        FROM pg_attribute WHERE attrelid = 'pg_temp.admin_fired'::regclass AND attnum > 0),
                     'scheduled_job_id bigint, slot timestamp with time zone, job_id bigint', 'result columns');
END;
$$;
DO $$
BEGIN
  PERFORM app_jobs.run_due_scheduled_jobs(max_jobs := 0);
  RAISE EXCEPTION 'FAILED: max_jobs 0 accepted';
EXCEPTION WHEN invalid_parameter_value THEN
  NULL;
END;
$$;

ROLLBACK;
