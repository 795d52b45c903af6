-- app_jobs tests 07: scheduled jobs.
-- Covers: add_scheduled_job defaults, NULL arguments, argument errors,
-- schedule_info validation (INVALID_SCHEDULE_INFO), keyed upsert per
-- tenant (in place when unclaimed; replaced with last_scheduled carried
-- over when claimed); get_scheduled_job order, task filter, claims;
-- release_scheduled_jobs (own only, by ids); run_scheduled_job: spawned
-- job fields, ALREADY_SCHEDULED while pending / waiting for retry /
-- running within job_expiry / another running job has the key, allowed
-- after completion, permanent failure or lock expiry, all-NULL row for an
-- unknown id.
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

-- add_scheduled_job
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  s app_jobs.scheduled_jobs;
BEGIN
  s := app_jobs.add_scheduled_job(db, 'nightly');
  PERFORM pg_temp.ok(s.id IS NOT NULL AND s.database_id = db AND s.task_identifier = 'nightly', 'created');
  PERFORM pg_temp.eq(s.payload::text, '{}', 'default payload');
  PERFORM pg_temp.eq(s.schedule_info::text, '{}', 'default schedule_info');
  PERFORM pg_temp.ok(s.priority = 0 AND s.max_attempts = 25 AND s.key IS NULL AND s.queue_name IS NULL, 'defaults');
  PERFORM pg_temp.ok(s.locked_at IS NULL AND s.last_scheduled IS NULL AND s.last_scheduled_id IS NULL, 'unclaimed, never run');
  s := app_jobs.add_scheduled_job(db, 'nulls', NULL, NULL, NULL, NULL, NULL, NULL);
  PERFORM pg_temp.ok(s.payload::text = '{}' AND s.schedule_info::text = '{}' AND s.max_attempts = 25 AND s.priority = 0, 'NULL arguments take the defaults');
  s := app_jobs.add_scheduled_job(db, 'full', '{"a": 1}', '{"rule": "0 3 * * *", "tz": "Europe/Paris"}', NULL, 'q7', 4, 9);
  PERFORM pg_temp.ok(s.payload::jsonb = '{"a": 1}' AND s.schedule_info::jsonb = '{"rule": "0 3 * * *", "tz": "Europe/Paris"}'
                     AND s.queue_name = 'q7' AND s.max_attempts = 4 AND s.priority = 9, 'values kept');
END;
$$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_scheduled_job(NULL, 'x')$$, 'app_jobs.add_scheduled_job: db_id must not be NULL');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_scheduled_job('10000000-0000-0000-0000-000000000001', NULL)$$, 'app_jobs.add_scheduled_job: identifier (the task) must not be NULL');
END $t$;
DO $t$ BEGIN
  CALL pg_temp.raises($$SELECT app_jobs.add_scheduled_job('10000000-0000-0000-0000-000000000001', 'x', max_attempts := -1)$$, 'app_jobs.add_scheduled_job: max_attempts must be at least 1, got -1');
END $t$;

-- schedule_info validation
DO $$
DECLARE
  good text[] := ARRAY[
    '{}', '{"rule": "*/5 * * * *"}', '{"rule": "0 0 12 * * MON-FRI"}',
    '{"rule": "0 3 * * *", "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z", "tz": "UTC"}',
    '{"hour": 3}', '{"hour": [1, 13], "minute": 30, "second": 15}',
    '{"year": 2030, "month": 11, "date": 31, "dayOfWeek": [0, 6], "tz": "America/New_York"}'];
  bad text[][] := ARRAY[
    ARRAY['[1, 2]', 'schedule_info must be a JSON object, got array'],
    ARRAY['"daily"', 'schedule_info must be a JSON object, got string'],
    ARRAY['{"rule": 5}', 'rule must be a string'],
    ARRAY['{"rule": "* * * *"}', 'rule must have 5 or 6 cron fields, got 4: * * * *'],
    ARRAY['{"rule": "* * * * * * *"}', 'rule must have 5 or 6 cron fields, got 7: * * * * * * *'],
    ARRAY['{"rule": "* * * * $(x)"}', 'rule has a field with characters a cron field cannot contain: * * * * $(x)'],
    ARRAY['{"rule": "* * * * *", "hour": 1}', 'unknown keys {hour} in the rule form (allowed: rule, start, end, tz)'],
    ARRAY['{"rule": "* * * * *", "start": "yesterday-ish"}', 'start is not a valid time: yesterday-ish'],
    ARRAY['{"rule": "* * * * *", "start": "2027-01-01", "end": "2026-01-01"}', 'start (2027-01-01) must be before end (2026-01-01)'],
    ARRAY['{"hours": 3}', 'unknown keys {hours} (the recurrence form allows year, month, date, dayOfWeek, hour, minute, second, tz; the rule form needs "rule")'],
    ARRAY['{"hour": 24}', 'hour must hold integers from 0 to 23, got 24'],
    ARRAY['{"month": 12}', 'month must hold integers from 0 to 11, got 12'],
    ARRAY['{"minute": 1.5}', 'minute must hold integers from 0 to 59, got 1.5'],
    ARRAY['{"minute": []}', 'minute must be a number or a non-empty array of numbers, got []'],
    ARRAY['{"second": "0"}', 'second must be a number or a non-empty array of numbers, got "0"'],
    ARRAY['{"dayOfWeek": [1, "2"]}', 'dayOfWeek must hold integers from 0 to 6, got [1, "2"]'],
    ARRAY['{"hour": 1, "tz": "Mars/Olympus"}', 'tz is not a known time zone: Mars/Olympus'],
    ARRAY['{"hour": 1, "tz": 2}', 'tz must be a time zone name']];
  g text;
  detail text;
BEGIN
  FOREACH g IN ARRAY good LOOP
    PERFORM pg_temp.eq(app_jobs.validate_schedule_info(g::json)::text, g, 'valid schedule_info ' || g);
  END LOOP;
  FOR i IN 1..array_length(bad, 1) LOOP
    BEGIN
      PERFORM app_jobs.add_scheduled_job('10000000-0000-0000-0000-000000000001', 'bad', schedule_info := bad[i][1]::json);
      RAISE EXCEPTION 'FAILED: schedule_info % accepted', bad[i][1];
    EXCEPTION WHEN invalid_parameter_value THEN
      GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
      PERFORM pg_temp.eq(SQLERRM, 'INVALID_SCHEDULE_INFO', 'message for ' || bad[i][1]);
      PERFORM pg_temp.eq(detail, bad[i][2], 'detail for ' || bad[i][1]);
    END;
  END LOOP;
END;
$$;

-- keyed upsert
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  a app_jobs.scheduled_jobs;
  b app_jobs.scheduled_jobs;
  j app_jobs.jobs;
BEGIN
  a := app_jobs.add_scheduled_job(db, 'k', '{"v": 1}', '{"minute": 1}', 'sched-key');
  b := app_jobs.add_scheduled_job(db, 'k2', '{"v": 2}', '{"minute": 2}', 'sched-key', 'qq', 3, 4);
  PERFORM pg_temp.eq(b.id, a.id, 'unclaimed definition updated in place');
  PERFORM pg_temp.ok(b.task_identifier = 'k2' AND b.payload::jsonb = '{"v": 2}' AND b.schedule_info::jsonb = '{"minute": 2}'
                     AND b.queue_name = 'qq' AND b.max_attempts = 3 AND b.priority = 4, 'all fields replaced');
  PERFORM pg_temp.ok((app_jobs.add_scheduled_job('10000000-0000-0000-0000-000000000002', 'k', job_key := 'sched-key')).id <> a.id, 'keys are per tenant');

  -- claimed by a scheduler, with a job run: replaced, history carried over
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('sched-1', '{k2}')).id, a.id, 'claimed');
  j := app_jobs.run_scheduled_job(a.id);
  b := app_jobs.add_scheduled_job(db, 'k3', '{"v": 3}', '{"minute": 3}', 'sched-key');
  PERFORM pg_temp.ok(b.id <> a.id, 'claimed definition replaced by a new row');
  PERFORM pg_temp.ok(b.locked_at IS NULL AND b.task_identifier = 'k3', 'new row unclaimed, new values');
  PERFORM pg_temp.eq(b.last_scheduled_id, j.id, 'last_scheduled_id carried over');
  PERFORM pg_temp.eq(b.last_scheduled, now(), 'last_scheduled carried over');
  PERFORM pg_temp.ok((app_jobs.run_scheduled_job(a.id)).id IS NULL, 'old id: all-NULL row (scheduler drops it)');
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', b.id), 'ALREADY_SCHEDULED');
END;
$$;

-- get_scheduled_job / release_scheduled_jobs
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  p2 bigint; p1a bigint; p1b bigint; other bigint;
  s app_jobs.scheduled_jobs;
BEGIN
  p2 := (app_jobs.add_scheduled_job(db, 'a', priority := 2)).id;
  p1a := (app_jobs.add_scheduled_job(db, 'a', priority := 1)).id;
  p1b := (app_jobs.add_scheduled_job(db, 'a', priority := 1)).id;
  other := (app_jobs.add_scheduled_job(db, 'b', priority := 0)).id;
  s := app_jobs.get_scheduled_job('sched-a', '{a}');
  PERFORM pg_temp.ok(s.id = p1a AND s.locked_by = 'sched-a' AND s.locked_at = now(), 'first by priority, id; claimed');
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('sched-b', '{a}')).id, p1b, 'next unclaimed');
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('sched-a', '{a}')).id, p2, 'then priority 2');
  PERFORM pg_temp.ok((app_jobs.get_scheduled_job('sched-c', '{a}')).id IS NULL, 'nothing left for task a');
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('sched-c')).id, other, 'NULL = any task');

  PERFORM app_jobs.release_scheduled_jobs('sched-a', ARRAY[p2]);
  PERFORM pg_temp.eq((SELECT array_agg(id ORDER BY id) FROM app_jobs.scheduled_jobs WHERE locked_by = 'sched-a'), ARRAY[p1a], 'released by id');
  PERFORM app_jobs.release_scheduled_jobs('sched-b');
  PERFORM pg_temp.ok((SELECT locked_at IS NULL FROM app_jobs.scheduled_jobs WHERE id = p1b), 'released all of sched-b');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.scheduled_jobs WHERE id = p1a), 'sched-a', 'other schedulers untouched');
  PERFORM app_jobs.release_scheduled_jobs('sched-x', ARRAY[p1a]);
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.scheduled_jobs WHERE id = p1a), 'sched-a', 'cannot release another scheduler''s claim');
END;
$$;

-- run_scheduled_job
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  sid bigint;
  j app_jobs.jobs;
  j2 app_jobs.jobs;
BEGIN
  PERFORM pg_temp.ok((app_jobs.run_scheduled_job(987654321)).id IS NULL, 'unknown id: all-NULL row');

  sid := (app_jobs.add_scheduled_job(db, 'report', '{"r": 1}', '{"hour": 6}', NULL, 'rq', 2, 3)).id;
  j := app_jobs.run_scheduled_job(sid);
  PERFORM pg_temp.ok(j.database_id = db AND j.task_identifier = 'report' AND j.payload::jsonb = '{"r": 1}'
                     AND j.queue_name = 'rq' AND j.max_attempts = 2 AND j.priority = 3 AND j.run_at = now(), 'spawned job copies the definition');
  PERFORM pg_temp.ok((SELECT last_scheduled_id = j.id AND last_scheduled = now() FROM app_jobs.scheduled_jobs WHERE id = sid), 'recorded');

  -- pending
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', sid), 'ALREADY_SCHEDULED');
  -- running
  PERFORM pg_temp.eq((app_jobs.get_job('w-07')).id, j.id, 'spawned job claimed');
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', sid), 'ALREADY_SCHEDULED');
  -- running for 30 minutes: blocks with the default 1 hour and with NULL (-> setting, 4 hours) ...
  UPDATE app_jobs.jobs SET locked_at = now() - interval '30 minutes' WHERE id = j.id;
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', sid), 'ALREADY_SCHEDULED');
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s, NULL)', sid), 'ALREADY_SCHEDULED');
  -- ... but not once the lock is older than job_expiry
  SET LOCAL app_jobs.job_expiry = '10 minutes';
  j2 := app_jobs.run_scheduled_job(sid, NULL);
  SET LOCAL app_jobs.job_expiry = '';
  PERFORM pg_temp.ok(j2.id IS NOT NULL AND j2.id <> j.id, 'lock older than job_expiry (setting) does not block');
  PERFORM pg_temp.eq((SELECT last_scheduled_id FROM app_jobs.scheduled_jobs WHERE id = sid), j2.id, 'last_scheduled_id moves on');
  PERFORM app_jobs.complete_job('w-07', j.id);

  -- waiting for a retry blocks
  PERFORM pg_temp.eq((app_jobs.get_job('w-07')).id, j2.id, 'claim the second job');
  PERFORM app_jobs.fail_job('w-07', j2.id, 'transient');
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', sid), 'ALREADY_SCHEDULED');
  -- a permanently failed previous job does not
  UPDATE app_jobs.jobs SET attempts = max_attempts WHERE id = j2.id;
  j := app_jobs.run_scheduled_job(sid);
  PERFORM pg_temp.ok(j.id IS NOT NULL AND j.id <> j2.id, 'permanently failed previous job does not block');
  -- a completed (deleted) previous job does not
  PERFORM pg_temp.eq((app_jobs.get_job('w-07', '{report}')).id, j.id, 'claim the third job');
  PERFORM app_jobs.complete_job('w-07', j.id);
  j2 := app_jobs.run_scheduled_job(sid);
  PERFORM pg_temp.ok(j2.id IS NOT NULL AND j2.id <> j.id, 'completed previous job does not block');
END;
$$;

-- a definition with a key: another running job with that key blocks
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.jobs;
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  sid bigint;
  other bigint;
  j app_jobs.jobs;
BEGIN
  sid := (app_jobs.add_scheduled_job(db, 'sync', '{"from": "schedule"}', '{"minute": 0}', 'sync-key')).id;
  other := (app_jobs.add_job(db, 'sync', '{"from": "add_job"}', 'sync-key')).id;
  PERFORM pg_temp.eq((app_jobs.get_job('w-07k')).id, other, 'keyed job running');
  CALL pg_temp.raises(format('SELECT app_jobs.run_scheduled_job(%s)', sid), 'ALREADY_SCHEDULED');
  -- once that lock is older than job_expiry the spawn goes ahead and takes the key
  UPDATE app_jobs.jobs SET locked_at = now() - interval '2 hours' WHERE id = other;
  j := app_jobs.run_scheduled_job(sid);
  PERFORM pg_temp.ok(j.id <> other AND j.key = 'sync-key' AND j.payload::jsonb = '{"from": "schedule"}', 'spawned job carries the key');
  PERFORM pg_temp.ok((SELECT superseded AND key IS NULL FROM app_jobs.jobs WHERE id = other), 'the stale running job was superseded');
  -- a pending job with the key is replaced by the spawn (keyed upsert)
  PERFORM app_jobs.complete_jobs(ARRAY[other]);
  UPDATE app_jobs.jobs SET attempts = max_attempts WHERE id = j.id;  -- let the schedule run again
  PERFORM pg_temp.eq((app_jobs.run_scheduled_job(sid)).id, j.id, 'spawn with a key reuses the pending keyed job');
END;
$$;

ROLLBACK;
