-- app_jobs tests 11: invalid schedules are refused on every write.
-- Covers: a table of invalid schedule_info values (bad field count,
-- out-of-range values, bad steps, unknown names, bad L/#/?, backwards
-- ranges, unknown tz, end before start, non-ISO times, recurrence month 12,
-- wrong JSON types, bad catch-up keys), each refused with
-- INVALID_SCHEDULE_INFO (22023) and a DETAIL naming the key or cron field,
-- by validate_schedule_info, schedule_next, add_scheduled_job (plain and
-- keyed upsert), a direct INSERT, INSERT ... ON CONFLICT DO UPDATE and a
-- direct UPDATE; what the trigger does with next_run_at; that rows written
-- with the trigger bypassed (or before this release) keep working for the
-- other functions and are stopped, with a warning, by
-- run_due_scheduled_jobs; NULL schedule_info still meets NOT NULL.
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

-- stmt must raise INVALID_SCHEDULE_INFO with exactly this DETAIL
CREATE FUNCTION pg_temp.refused(stmt text, detail text, what text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_detail text;
  v_state text;
BEGIN
  BEGIN
    EXECUTE stmt;
  EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_state = RETURNED_SQLSTATE;
    IF SQLERRM = 'INVALID_SCHEDULE_INFO' AND v_state = '22023' AND v_detail = detail THEN
      RETURN;
    END IF;
    RAISE EXCEPTION 'FAILED: %: % raised "%" [%] DETAIL "%", expected INVALID_SCHEDULE_INFO DETAIL "%"',
      what, stmt, SQLERRM, v_state, v_detail, detail;
  END;
  RAISE EXCEPTION 'FAILED: %: % was accepted (expected DETAIL "%")', what, stmt, detail;
END;
$fn$;

DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

CREATE TABLE pg_temp.bad_cases (
  n serial,
  schedule_info text NOT NULL,
  detail text NOT NULL
);
INSERT INTO pg_temp.bad_cases (schedule_info, detail) VALUES
  -- field count and characters
  ('{"rule": "* * * *"}', 'rule must have 5 or 6 cron fields, got 4: * * * *'),
  ('{"rule": "* * * * * * *"}', 'rule must have 5 or 6 cron fields, got 7: * * * * * * *'),
  ('{"rule": ""}', 'rule must have 5 or 6 cron fields, got 1: '),
  ('{"rule": "* * * * %"}', 'rule has a field with characters a cron field cannot contain: * * * * %'),
  -- out-of-range values, per field
  ('{"rule": "61 * * * *"}', 'rule: minute field "61": 61 is out of range 0-59'),
  ('{"rule": "60 * * * * *"}', 'rule: second field "60": 60 is out of range 0-59'),
  ('{"rule": "0 24 * * *"}', 'rule: hour field "24": 24 is out of range 0-23'),
  ('{"rule": "0 0 0 * *"}', 'rule: day-of-month field "0": 0 is out of range 1-31'),
  ('{"rule": "0 0 32 * *"}', 'rule: day-of-month field "32": 32 is out of range 1-31'),
  ('{"rule": "0 0 * 13 *"}', 'rule: month field "13": 13 is out of range 1-12'),
  ('{"rule": "0 0 * 0 *"}', 'rule: month field "0": 0 is out of range 1-12'),
  ('{"rule": "0 0 * * 8"}', 'rule: day-of-week field "8": 8 is out of range 0-7'),
  ('{"rule": "0 0 1-40 * *"}', 'rule: day-of-month field "1-40": 40 is out of range 1-31'),
  ('{"rule": "0 99999 * * *"}', 'rule: hour field "99999": 99999 is out of range 0-23'),
  -- steps
  ('{"rule": "*/0 * * * *"}', 'rule: minute field "*/0": step "0" must be a whole number from 1 to 59'),
  ('{"rule": "*/x * * * *"}', 'rule: minute field "*/x": step "x" must be a whole number from 1 to 59'),
  ('{"rule": "*/60 * * * *"}', 'rule: minute field "*/60": step "60" must be a whole number from 1 to 59'),
  ('{"rule": "0 */ * * *"}', 'rule: hour field "*/": step "" must be a whole number from 1 to 23'),
  ('{"rule": "1/2/3 * * * *"}', 'rule: minute field "1/2/3": 1/2/3 has more than one "/"'),
  -- names
  ('{"rule": "0 0 * * FOO"}', 'rule: day-of-week field "FOO": unknown name FOO (weekdays are 0-7 or SUN-SAT)'),
  ('{"rule": "0 0 1 JANUARY *"}', 'rule: month field "JANUARY": unknown name JANUARY (months are 1-12 or JAN-DEC)'),
  ('{"rule": "0 0 1 * JAN"}', 'rule: day-of-week field "JAN": unknown name JAN (weekdays are 0-7 or SUN-SAT)'),
  ('{"rule": "MON * * * *"}', 'rule: minute field "MON": unknown name MON (only month and day-of-week take names)'),
  -- lists, ranges and the special characters
  ('{"rule": "1,,2 * * * *"}', 'rule: minute field "1,,2": empty list item'),
  ('{"rule": "0 0 * * 5-1"}', 'rule: day-of-week field "5-1": range 5-1 goes backwards'),
  ('{"rule": "0 0 1-2-3 * *"}', 'rule: day-of-month field "1-2-3": 1-2-3 is not a value or a range a-b'),
  ('{"rule": "0 ? * * *"}', 'rule: hour field "?": "?" is only allowed alone, in day-of-month and day-of-week'),
  ('{"rule": "0 0 L/2 * *"}', 'rule: day-of-month field "L/2": "L" takes no step'),
  ('{"rule": "0 0 * * L"}', 'rule: day-of-week field "L": "L" in day-of-week needs a weekday before it (e.g. 5L, the last Friday)'),
  ('{"rule": "0 0 * * 1#6"}', 'rule: day-of-week field "1#6": 1#6: "#" needs a weekday and a week number from 1 to 5 (e.g. 5#3)'),
  ('{"rule": "0 0 * * 9L"}', 'rule: day-of-week field "9L": 9L: 9 is not a weekday (0-7 or SUN-SAT)'),
  ('{"rule": "0 L * * *"}', 'rule: hour field "L": unknown name L (only month and day-of-week take names)'),
  -- zone, bounds
  ('{"rule": "* * * * *", "tz": "Mars/Olympus"}', 'tz is not a known time zone: Mars/Olympus'),
  ('{"rule": "* * * * *", "tz": 2}', 'tz must be a time zone name'),
  ('{"rule": "* * * * *", "start": "2027-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}', 'start (2027-01-01T00:00:00Z) must be before end (2026-01-01T00:00:00Z)'),
  ('{"rule": "* * * * *", "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}', 'start (2026-01-01T00:00:00Z) must be before end (2026-01-01T00:00:00Z)'),
  ('{"rule": "* * * * *", "start": 5}', 'start must be a time string'),
  ('{"rule": "* * * * *", "start": "now"}', 'start is not a valid time: now'),
  ('{"rule": "* * * * *", "end": "2026-13-01"}', 'end is not a valid time: 2026-13-01'),
  -- catch-up keys
  ('{"rule": "* * * * *", "catchup": "all"}', 'catchup must be "latest" or "backfill", got "all"'),
  ('{"rule": "* * * * *", "catchup": true}', 'catchup must be "latest" or "backfill", got true'),
  ('{"rule": "* * * * *", "catchupWindow": 3600}', 'catchupWindow must be an interval such as "1 hour", got 3600'),
  ('{"rule": "* * * * *", "catchupWindow": "soon"}', 'catchupWindow must be an interval such as "1 hour", got "soon"'),
  ('{"rule": "* * * * *", "catchupWindow": "-1 hour"}', 'catchupWindow must be positive, got "-1 hour"'),
  -- JSON types and keys
  ('[1]', 'schedule_info must be a JSON object, got array'),
  ('"0 * * * *"', 'schedule_info must be a JSON object, got string'),
  ('{"rule": ["* * * * *"]}', 'rule must be a string'),
  ('{"rule": "* * * * *", "hour": 1}', 'unknown keys {hour} in the rule form (allowed: rule, start, end, tz)'),
  ('{"hours": 3}', 'unknown keys {hours} (the recurrence form allows year, month, date, dayOfWeek, hour, minute, second, tz; the rule form needs "rule")'),
  -- recurrence form
  ('{"month": 12}', 'month must hold integers from 0 to 11, got 12'),
  ('{"dayOfWeek": 7}', 'dayOfWeek must hold integers from 0 to 6, got 7'),
  ('{"date": 0}', 'date must hold integers from 1 to 31, got 0'),
  ('{"year": 1969}', 'year must hold integers from 1970 to 9999, got 1969'),
  ('{"hour": "3"}', 'hour must be a number or a non-empty array of numbers, got "3"'),
  ('{"minute": [1, null]}', 'minute must hold integers from 0 to 59, got [1, null]'),
  ('{"second": {"at": 0}}', 'second must be a number or a non-empty array of numbers, got {"at": 0}'),
  ('{"hour": 1, "catchup": "backfill", "catchupWindow": "0"}', 'catchupWindow must be positive, got "0"');

-- every case, through every way of writing a schedule
INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info, key)
VALUES ('10000000-0000-0000-0000-000000000001', 'victim', '{"rule": "0 3 * * *"}', 'victim-key');

DO $$
DECLARE
  c record;
  lit text;
  victim constant bigint := (SELECT id FROM app_jobs.scheduled_jobs WHERE key = 'victim-key');
BEGIN
  FOR c IN SELECT * FROM pg_temp.bad_cases ORDER BY n LOOP
    lit := quote_literal(c.schedule_info) || '::json';
    PERFORM pg_temp.refused(format('SELECT app_jobs.validate_schedule_info(%s)', lit), c.detail, 'validate_schedule_info');
    PERFORM pg_temp.refused(format('SELECT app_jobs.schedule_next(%s, now())', lit), c.detail, 'schedule_next');
    PERFORM pg_temp.refused(format('SELECT app_jobs.add_scheduled_job(%L, %L, schedule_info := %s)',
                                   '10000000-0000-0000-0000-000000000001', 'bad', lit), c.detail, 'add_scheduled_job');
    PERFORM pg_temp.refused(format('SELECT app_jobs.add_scheduled_job(%L, %L, schedule_info := %s, job_key := %L)',
                                   '10000000-0000-0000-0000-000000000001', 'bad', lit, 'victim-key'), c.detail, 'add_scheduled_job keyed upsert');
    PERFORM pg_temp.refused(format('INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info) VALUES (%L, %L, %s)',
                                   '10000000-0000-0000-0000-000000000001', 'bad', lit), c.detail, 'INSERT');
    PERFORM pg_temp.refused(format('INSERT INTO app_jobs.scheduled_jobs AS s (database_id, task_identifier, schedule_info, key) VALUES (%L, %L, %s, %L)
                                    ON CONFLICT (database_id, key) WHERE key IS NOT NULL DO UPDATE SET schedule_info = excluded.schedule_info',
                                   '10000000-0000-0000-0000-000000000001', 'bad', lit, 'victim-key'), c.detail, 'INSERT ON CONFLICT DO UPDATE');
    PERFORM pg_temp.refused(format('UPDATE app_jobs.scheduled_jobs SET schedule_info = %s WHERE id = %s', lit, victim), c.detail, 'UPDATE');
  END LOOP;
  PERFORM pg_temp.eq((SELECT schedule_info::text FROM app_jobs.scheduled_jobs WHERE id = victim), '{"rule": "0 3 * * *"}', 'the victim is unchanged');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.scheduled_jobs), 1::bigint, 'nothing was written');
END;
$$;

-- valid schedules are accepted on every path
DO $$
DECLARE
  good text[] := ARRAY[
    '{}', '{"rule": "*/5 * * * *"}', '{"rule": "0 0 12 * * MON-FRI"}', '{"rule": "0 0 L * *"}',
    '{"rule": "0 0 ? * 5L"}', '{"rule": "0 0 * * fri#3"}', '{"rule": "  0  3 * * *  "}',
    '{"rule": "0 3 * * *", "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z", "tz": "UTC"}',
    '{"rule": "0 3 * * *", "start": "2026-01-01 00:00", "tz": "Europe/Berlin", "catchup": "backfill", "catchupWindow": "2 hours"}',
    '{"hour": 3}', '{"hour": [1, 13], "minute": 30, "second": 15}',
    '{"year": 2030, "month": 11, "date": 31, "dayOfWeek": [0, 6], "tz": "America/New_York"}',
    '{"minute": 0, "start": "2026-01-01", "end": "2026-02-01", "catchup": "latest", "catchupWindow": "PT15M"}'];
  g text;
  s app_jobs.scheduled_jobs;
BEGIN
  FOREACH g IN ARRAY good LOOP
    PERFORM pg_temp.eq(app_jobs.validate_schedule_info(g::json)::text, g, 'validate_schedule_info returns its argument: ' || g);
    s := app_jobs.add_scheduled_job('10000000-0000-0000-0000-000000000002', 'good', schedule_info := g::json);
    PERFORM pg_temp.ok(s.id IS NOT NULL, 'add_scheduled_job accepts ' || g);
    INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info)
    VALUES ('10000000-0000-0000-0000-000000000002', 'good', g::json);
  END LOOP;
END;
$$;

-- next_run_at: set by the trigger from now() on INSERT, kept when given,
-- recomputed when the schedule changes, kept when it does not
DELETE FROM app_jobs.scheduled_jobs;
DO $$
DECLARE
  db constant uuid := '10000000-0000-0000-0000-000000000001';
  s app_jobs.scheduled_jobs;
  id1 bigint;
BEGIN
  s := app_jobs.add_scheduled_job(db, 't', schedule_info := '{"rule": "0 3 * * *"}', job_key := 'k');
  PERFORM pg_temp.eq(s.next_run_at, app_jobs.schedule_next('{"rule": "0 3 * * *"}', now()), 'add_scheduled_job sets next_run_at from now()');
  id1 := s.id;

  -- the keyed upsert with the same schedule (re-registration at start-up) keeps it
  UPDATE app_jobs.scheduled_jobs SET next_run_at = '2020-01-01 03:00+00' WHERE id = id1;
  s := app_jobs.add_scheduled_job(db, 't', payload := '{"v": 2}', schedule_info := '{ "rule" : "0 3 * * *" }', job_key := 'k');
  PERFORM pg_temp.eq(s.id, id1, 'upserted in place');
  PERFORM pg_temp.eq(s.next_run_at, '2020-01-01 03:00+00'::timestamptz, 'same schedule (as jsonb): next_run_at kept');

  -- a changed schedule starts again from now()
  s := app_jobs.add_scheduled_job(db, 't', schedule_info := '{"rule": "0 4 * * *"}', job_key := 'k');
  PERFORM pg_temp.eq(s.next_run_at, app_jobs.schedule_next('{"rule": "0 4 * * *"}', now()), 'changed schedule: next_run_at recomputed');

  -- direct writes
  UPDATE app_jobs.scheduled_jobs SET schedule_info = '{"rule": "0 5 * * *"}' WHERE id = id1 RETURNING * INTO s;
  PERFORM pg_temp.eq(s.next_run_at, app_jobs.schedule_next('{"rule": "0 5 * * *"}', now()), 'UPDATE of schedule_info recomputes');
  UPDATE app_jobs.scheduled_jobs SET schedule_info = '{"rule": "0 6 * * *"}', next_run_at = '2030-01-01 06:00+00' WHERE id = id1 RETURNING * INTO s;
  PERFORM pg_temp.eq(s.next_run_at, '2030-01-01 06:00+00'::timestamptz, 'UPDATE setting both keeps the given next_run_at');
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info, next_run_at)
  VALUES (db, 'x', '{"rule": "* * * * *"}', '2024-06-01 10:00+00') RETURNING * INTO s;
  PERFORM pg_temp.eq(s.next_run_at, '2024-06-01 10:00+00'::timestamptz, 'INSERT with next_run_at keeps it');
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info)
  VALUES (db, 'x', '{"rule": "0 0 30 2 *"}') RETURNING * INTO s;
  PERFORM pg_temp.ok(s.next_run_at IS NULL, 'a schedule that never fires has no next_run_at');
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info)
  VALUES (db, 'x', '{"rule": "* * * * *", "end": "2020-01-01T00:00:00Z"}') RETURNING * INTO s;
  PERFORM pg_temp.ok(s.next_run_at IS NULL, 'a schedule past its end has no next_run_at');
END;
$$;

-- NULL schedule_info still meets the NOT NULL constraint
DO $$
BEGIN
  INSERT INTO app_jobs.scheduled_jobs (database_id, task_identifier, schedule_info)
  VALUES ('10000000-0000-0000-0000-000000000001', 'x', NULL);
  RAISE EXCEPTION 'FAILED: NULL schedule_info accepted';
EXCEPTION WHEN not_null_violation THEN
  NULL;
END;
$$;

-- A row whose schedule does not parse (written before this release, or
-- with the trigger bypassed): the other functions keep working on it;
-- run_due_scheduled_jobs stops it with a warning instead of failing.
DELETE FROM app_jobs.scheduled_jobs;
SET LOCAL session_replication_role = replica;   -- bypasses the trigger
INSERT INTO app_jobs.scheduled_jobs (id, database_id, task_identifier, schedule_info, next_run_at)
VALUES (424242, '10000000-0000-0000-0000-000000000001', 'legacy', '{"rule": "99 * * * *"}', '2026-01-01 00:00+00');
SET LOCAL session_replication_role = origin;
SET LOCAL client_min_messages = error;          -- the expected WARNING
DO $$
DECLARE
  j app_jobs.jobs;
BEGIN
  PERFORM pg_temp.eq((app_jobs.get_scheduled_job('sched-11')).id, 424242::bigint, 'a legacy row can be claimed');
  PERFORM app_jobs.release_scheduled_jobs('sched-11');
  j := app_jobs.run_scheduled_job(424242);
  PERFORM pg_temp.ok(j.id IS NOT NULL, 'run_scheduled_job still spawns from it');
  PERFORM app_jobs.complete_jobs(ARRAY[j.id]);
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.run_due_scheduled_jobs('2026-01-01 00:05+00')), 0::bigint, 'not fired');
  PERFORM pg_temp.ok((SELECT next_run_at IS NULL FROM app_jobs.scheduled_jobs WHERE id = 424242), 'stopped: next_run_at NULL');
END;
$$;
RESET client_min_messages;

ROLLBACK;
