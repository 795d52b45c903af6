-- app_jobs tests 10: schedule evaluation (app_jobs.schedule_next).
-- Covers: a table of cron and recurrence schedules with the expected next
-- slot strictly after a given instant: steps, ranges, lists, names (any
-- case), day-of-week 0 and 7, the day-of-month x day-of-week OR rule (and
-- Vixie's "*/n counts as unrestricted"), L and #, 6-field rules with
-- seconds, leap days, impossible dates (NULL), start/end bounds (with and
-- without an offset), time zones, daylight saving in Europe/Berlin and
-- America/New_York (a skipped wall time never fires, a repeated one fires
-- once, at its first occurrence), the recurrence form's AND rule; the
-- result does not depend on the session's TimeZone; impossible schedules
-- answer quickly; brute-force comparison around DST transitions (Berlin,
-- New York, Lord Howe's 30-minute shift).
--
-- Run by tests/app_jobs.rs and tests/scheduling.rs through
-- common::run_sql_file, which sends tests/sql/prelude.sql (the checks ok, eq
-- and raises) and this file as one batch; by hand: psql -v ON_ERROR_STOP=1
-- -X -q -f tests/sql/prelude.sql -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ..." (a passing run prints nothing).

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

-- the session's zone must not matter: every literal below has an offset
SET LOCAL "TimeZone" = 'America/Los_Angeles';

CREATE TABLE pg_temp.next_cases (
  n serial,
  what text NOT NULL,
  schedule_info json NOT NULL,
  after timestamptz NOT NULL,
  expected timestamptz           -- NULL: never fires again
);

INSERT INTO pg_temp.next_cases (what, schedule_info, after, expected) VALUES
  -- cron: basics, steps, ranges, lists
  ('every minute', '{"rule": "* * * * *"}', '2026-01-01 10:00:00+00', '2026-01-01 10:01:00+00'),
  ('every minute, fractional after', '{"rule": "* * * * *"}', '2026-01-01 10:00:30.5+00', '2026-01-01 10:01:00+00'),
  ('strictly after a slot', '{"rule": "0 * * * *"}', '2026-01-01 10:00:00+00', '2026-01-01 11:00:00+00'),
  ('*/15 inside the hour', '{"rule": "*/15 * * * *"}', '2026-01-01 10:07:00+00', '2026-01-01 10:15:00+00'),
  ('*/15 into the next hour', '{"rule": "*/15 * * * *"}', '2026-01-01 10:45:00+00', '2026-01-01 11:00:00+00'),
  ('list 5,35', '{"rule": "5,35 * * * *"}', '2026-01-01 10:35:00+00', '2026-01-01 11:05:00+00'),
  ('range with step 9-17/4', '{"rule": "0 9-17/4 * * *"}', '2026-01-01 13:00:00+00', '2026-01-01 17:00:00+00'),
  ('range with step 9-17/4, next day', '{"rule": "0 9-17/4 * * *"}', '2026-01-01 17:00:00+00', '2026-01-02 09:00:00+00'),
  ('1-5/2 minutes', '{"rule": "1-5/2 * * * *"}', '2026-01-01 10:03:00+00', '2026-01-01 10:05:00+00'),
  ('1-5/2 minutes, wraps to next hour', '{"rule": "1-5/2 * * * *"}', '2026-01-01 10:05:00+00', '2026-01-01 11:01:00+00'),
  ('a/step = a-last/step (hours 1,7,13,19)', '{"rule": "30 1/6 * * *"}', '2026-01-01 08:00:00+00', '2026-01-01 13:30:00+00'),
  ('mixed list of ranges and values', '{"rule": "0 1-2,22 * * *"}', '2026-01-01 02:00:00+00', '2026-01-01 22:00:00+00'),
  ('year boundary', '{"rule": "0 0 1 1 *"}', '2026-12-31 23:59:59+00', '2027-01-01 00:00:00+00'),
  -- names, day-of-week 0 and 7
  ('month name JAN', '{"rule": "0 0 1 JAN *"}', '2026-01-01 00:00:00+00', '2027-01-01 00:00:00+00'),
  ('month name range, lower case', '{"rule": "0 0 1 jun-aug *"}', '2026-07-01 00:00:00+00', '2026-08-01 00:00:00+00'),
  ('weekday names mon-fri (Fri -> Mon)', '{"rule": "0 12 * * mon-fri"}', '2026-01-02 12:00:00+00', '2026-01-05 12:00:00+00'),
  ('weekday list MON,WED,FRI', '{"rule": "0 12 * * MON,Wed,fri"}', '2026-01-05 12:00:00+00', '2026-01-07 12:00:00+00'),
  ('day-of-week 7 = Sunday', '{"rule": "0 0 * * 7"}', '2026-01-01 00:00:00+00', '2026-01-04 00:00:00+00'),
  ('day-of-week 0 = Sunday', '{"rule": "0 0 * * 0"}', '2026-01-01 00:00:00+00', '2026-01-04 00:00:00+00'),
  ('day-of-week range 5-7 = Fri, Sat, Sun', '{"rule": "0 0 * * 5-7"}', '2026-01-03 00:00:00+00', '2026-01-04 00:00:00+00'),
  -- day-of-month x day-of-week
  ('dom and dow restricted: either (Friday first)', '{"rule": "0 0 13 * FRI"}', '2026-01-01 00:00:00+00', '2026-01-02 00:00:00+00'),
  ('dom and dow restricted: either (the 13th, a Tuesday)', '{"rule": "0 0 13 * FRI"}', '2026-01-12 00:00:00+00', '2026-01-13 00:00:00+00'),
  ('dom and dow restricted: 1st or Monday', '{"rule": "0 0 1 * MON"}', '2026-01-01 00:00:00+00', '2026-01-05 00:00:00+00'),
  ('only dom restricted', '{"rule": "0 0 13 * *"}', '2026-01-02 00:00:00+00', '2026-01-13 00:00:00+00'),
  ('*/2 day-of-month counts as unrestricted: odd AND Monday', '{"rule": "0 0 */2 * MON"}', '2026-01-05 00:00:00+00', '2026-01-19 00:00:00+00'),
  ('? in day-of-month', '{"rule": "0 0 ? * 1"}', '2026-01-01 00:00:00+00', '2026-01-05 00:00:00+00'),
  ('L = last day of February', '{"rule": "0 0 L * *"}', '2026-02-01 00:00:00+00', '2026-02-28 00:00:00+00'),
  ('L = last day of February, leap year', '{"rule": "0 0 L 2 *"}', '2024-02-01 00:00:00+00', '2024-02-29 00:00:00+00'),
  ('5L = last Friday', '{"rule": "0 0 * * 5L"}', '2026-01-01 00:00:00+00', '2026-01-30 00:00:00+00'),
  ('MON#2 = second Monday', '{"rule": "0 0 * * MON#2"}', '2026-01-01 00:00:00+00', '2026-01-12 00:00:00+00'),
  -- leap days and impossible dates
  ('29 February: next leap year', '{"rule": "0 0 29 2 *"}', '2024-03-01 00:00:00+00', '2028-02-29 00:00:00+00'),
  ('29 February from a non-leap year', '{"rule": "0 0 29 2 *"}', '2026-01-01 00:00:00+00', '2028-02-29 00:00:00+00'),
  ('30 February never', '{"rule": "0 0 30 2 *"}', '2026-01-01 00:00:00+00', NULL),
  ('31 April never', '{"rule": "0 0 31 APR *"}', '2026-01-01 00:00:00+00', NULL),
  ('31st: skips 30-day months', '{"rule": "0 0 31 * *"}', '2026-03-31 00:00:00+00', '2026-05-31 00:00:00+00'),
  -- 6 fields: seconds first
  ('6 fields: */10 seconds', '{"rule": "*/10 * * * * *"}', '2026-01-01 10:00:05+00', '2026-01-01 10:00:10+00'),
  ('6 fields: a fixed second of a fixed minute', '{"rule": "30 15 10 * * *"}', '2026-01-01 10:15:30+00', '2026-01-02 10:15:30+00'),
  ('6 fields: seconds list at minute end', '{"rule": "0,30 59 23 * * *"}', '2026-01-01 23:59:30+00', '2026-01-02 23:59:00+00'),
  ('6 fields: with names', '{"rule": "0 0 12 * * MON-FRI"}', '2026-01-02 12:00:00+00', '2026-01-05 12:00:00+00'),
  -- start and end
  ('start in the future: first slot at start (inclusive)', '{"rule": "0 * * * *", "start": "2026-06-01T00:00:00Z"}', '2026-01-01 00:00:00+00', '2026-06-01 00:00:00+00'),
  ('start in the past changes nothing', '{"rule": "0 * * * *", "start": "2020-01-01T00:00:00Z"}', '2026-01-01 00:30:00+00', '2026-01-01 01:00:00+00'),
  ('end is inclusive', '{"rule": "0 * * * *", "end": "2026-01-01T12:00:00Z"}', '2026-01-01 11:00:00+00', '2026-01-01 12:00:00+00'),
  ('past end: NULL', '{"rule": "0 * * * *", "end": "2026-01-01T12:00:00Z"}', '2026-01-01 12:00:00+00', NULL),
  ('next slot after end: NULL', '{"rule": "0 0 * * *", "end": "2026-01-01T12:00:00Z"}', '2026-01-01 06:00:00+00', NULL),
  ('start with an offset', '{"rule": "0 * * * *", "start": "2026-06-01T00:00:00+02:00"}', '2026-01-01 00:00:00+00', '2026-05-31 22:00:00+00'),
  ('start without offset is a wall time in tz', '{"rule": "0 * * * *", "start": "2026-06-01 00:00", "tz": "Europe/Berlin"}', '2026-01-01 00:00:00+00', '2026-05-31 22:00:00+00'),
  ('start without offset and tz is UTC', '{"rule": "0 * * * *", "start": "2026-06-01 00:00"}', '2026-01-01 00:00:00+00', '2026-06-01 00:00:00+00'),
  -- time zones
  ('09:00 New York in winter', '{"rule": "0 9 * * *", "tz": "America/New_York"}', '2026-01-01 00:00:00+00', '2026-01-01 14:00:00+00'),
  ('09:00 New York in summer', '{"rule": "0 9 * * *", "tz": "America/New_York"}', '2026-07-01 00:00:00+00', '2026-07-01 13:00:00+00'),
  ('weekday evaluated in the zone (Monday 01:00 Tokyo = Sunday UTC)', '{"rule": "0 1 * * MON", "tz": "Asia/Tokyo"}', '2026-01-01 00:00:00+00', '2026-01-04 16:00:00+00'),
  ('half-hour zone', '{"rule": "0 0 * * *", "tz": "Asia/Kolkata"}', '2026-01-01 00:00:00+00', '2026-01-01 18:30:00+00'),
  -- daylight saving, Europe/Berlin 2026: forward 29 March 02:00 -> 03:00, back 25 October 03:00 -> 02:00
  ('Berlin 02:30: the day before spring forward', '{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2026-03-27 12:00:00+00', '2026-03-28 01:30:00+00'),
  ('Berlin 02:30 does not exist on 29 March: skipped', '{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2026-03-28 02:00:00+00', '2026-03-30 00:30:00+00'),
  ('Berlin */30 across spring forward', '{"rule": "*/30 * * * *", "tz": "Europe/Berlin"}', '2026-03-29 00:45:00+00', '2026-03-29 01:00:00+00'),
  ('Berlin 02:00 does not exist either', '{"rule": "0 2 * * *", "tz": "Europe/Berlin"}', '2026-03-28 12:00:00+00', '2026-03-30 00:00:00+00'),
  ('Berlin 02:30 on fall back: first occurrence (CEST)', '{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2026-10-24 12:00:00+00', '2026-10-25 00:30:00+00'),
  ('Berlin 02:30 on fall back: not again in the repeated hour', '{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2026-10-25 00:30:00+00', '2026-10-26 01:30:00+00'),
  ('Berlin 02:30: asked from inside the repeated hour', '{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2026-10-25 01:10:00+00', '2026-10-26 01:30:00+00'),
  ('Berlin */30 across fall back: repeated half hours fire once', '{"rule": "*/30 * * * *", "tz": "Europe/Berlin"}', '2026-10-25 00:45:00+00', '2026-10-25 02:00:00+00'),
  ('Berlin hourly from the second pass', '{"rule": "0 * * * *", "tz": "Europe/Berlin"}', '2026-10-25 01:30:00+00', '2026-10-25 02:00:00+00'),
  ('Berlin 03:00 on fall back (unambiguous)', '{"rule": "0 3 * * *", "tz": "Europe/Berlin"}', '2026-10-24 12:00:00+00', '2026-10-25 02:00:00+00'),
  ('Berlin recurrence form 02:30 spring forward', '{"hour": 2, "minute": 30, "tz": "Europe/Berlin"}', '2026-03-28 02:00:00+00', '2026-03-30 00:30:00+00'),
  -- daylight saving, America/New_York 2026: forward 8 March 02:00 -> 03:00, back 1 November 02:00 -> 01:00
  ('New York 02:30 does not exist on 8 March', '{"rule": "30 2 * * *", "tz": "America/New_York"}', '2026-03-07 12:00:00+00', '2026-03-09 06:30:00+00'),
  ('New York 02:00 does not exist on 8 March', '{"rule": "0 2 * * *", "tz": "America/New_York"}', '2026-03-07 12:00:00+00', '2026-03-09 06:00:00+00'),
  ('New York 03:00 on 8 March exists', '{"rule": "0 3 * * *", "tz": "America/New_York"}', '2026-03-07 12:00:00+00', '2026-03-08 07:00:00+00'),
  ('New York 01:30 on 1 November: first occurrence (EDT)', '{"rule": "30 1 * * *", "tz": "America/New_York"}', '2026-10-31 12:00:00+00', '2026-11-01 05:30:00+00'),
  ('New York 01:30: not again at 01:30 EST', '{"rule": "30 1 * * *", "tz": "America/New_York"}', '2026-11-01 05:30:00+00', '2026-11-02 06:30:00+00'),
  ('New York every minute through the repeated hour', '{"rule": "* * * * *", "tz": "America/New_York"}', '2026-11-01 05:59:00+00', '2026-11-01 07:00:00+00'),
  -- recurrence form
  ('{} = every minute at second 0', '{}', '2026-01-01 10:00:30+00', '2026-01-01 10:01:00+00'),
  ('hour 3 alone = every minute of 03:xx', '{"hour": 3}', '2026-01-01 03:30:00+00', '2026-01-01 03:31:00+00'),
  ('hour 3 alone, after the hour', '{"hour": 3}', '2026-01-01 03:59:00+00', '2026-01-02 03:00:00+00'),
  ('arrays and seconds', '{"hour": [1, 13], "minute": 30, "second": 15}', '2026-01-01 13:30:15+00', '2026-01-02 01:30:15+00'),
  ('second as a list', '{"second": [0, 30]}', '2026-01-01 10:00:00+00', '2026-01-01 10:00:30+00'),
  ('month is 0-based: 1 = February, leap day', '{"month": 1, "date": 29, "hour": 0, "minute": 0}', '2026-01-01 00:00:00+00', '2028-02-29 00:00:00+00'),
  ('every unit must match: 29 Feb on a Monday', '{"month": 1, "date": 29, "dayOfWeek": 1, "hour": 0, "minute": 0}', '2026-01-01 00:00:00+00', '2044-02-29 00:00:00+00'),
  ('Friday the 13th', '{"date": 13, "dayOfWeek": 5, "hour": 0, "minute": 0}', '2026-01-01 00:00:00+00', '2026-02-13 00:00:00+00'),
  ('weekend days', '{"dayOfWeek": [0, 6], "hour": 10, "minute": 0}', '2026-01-01 00:00:00+00', '2026-01-03 10:00:00+00'),
  ('a given year', '{"year": 2030, "month": 0, "date": 1, "hour": 0, "minute": 0}', '2026-01-01 00:00:00+00', '2030-01-01 00:00:00+00'),
  ('after its last year: NULL', '{"year": 2030, "month": 0, "date": 1, "hour": 0, "minute": 0}', '2030-01-01 00:00:00+00', NULL),
  ('31 February never', '{"month": 1, "date": 31}', '2026-01-01 00:00:00+00', NULL),
  ('recurrence with tz', '{"month": 11, "date": 31, "hour": 0, "minute": 0, "tz": "America/New_York"}', '2026-01-01 00:00:00+00', '2026-12-31 05:00:00+00'),
  ('recurrence with start and end', '{"minute": 0, "start": "2026-01-01T05:00:00Z", "end": "2026-01-01T06:00:00Z"}', '2026-01-01 00:00:00+00', '2026-01-01 05:00:00+00'),
  ('catch-up keys change nothing here', '{"rule": "*/5 * * * *", "catchup": "backfill", "catchupWindow": "1 hour"}', '2026-01-01 10:01:00+00', '2026-01-01 10:05:00+00');

DO $$
DECLARE
  c record;
  got timestamptz;
  failures text[] := '{}';
BEGIN
  FOR c IN SELECT * FROM pg_temp.next_cases ORDER BY n LOOP
    got := app_jobs.schedule_next(c.schedule_info, c.after);
    IF got IS DISTINCT FROM c.expected THEN
      failures := failures || format('#%s %s: schedule_next(%s, %s) = %s, expected %s', c.n, c.what, c.schedule_info,
                                     to_char(c.after AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US"Z"'),
                                     coalesce(to_char(got AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'), 'NULL'),
                                     coalesce(to_char(c.expected AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'), 'NULL'));
    END IF;
  END LOOP;
  PERFORM pg_temp.ok(cardinality(failures) = 0,
                     format('%s of %s cases: %s', cardinality(failures), (SELECT count(*) FROM pg_temp.next_cases),
                            array_to_string(failures, E'\n')));
END;
$$;

-- Walking a schedule slot by slot gives exactly the expected sequence.
DO $$
DECLARE
  t timestamptz := '2026-10-24 23:00:00+00';
  got timestamptz[] := '{}';
BEGIN
  -- Berlin, every 30 minutes, across the fall-back night: 01:00 ... 02:30 CEST, then 03:00 CET
  FOR i IN 1..6 LOOP
    t := app_jobs.schedule_next('{"rule": "*/30 * * * *", "tz": "Europe/Berlin"}', t);
    got := got || t;
  END LOOP;
  PERFORM pg_temp.ok(got IS NOT DISTINCT FROM ARRAY['2026-10-24 23:30+00', '2026-10-25 00:00+00', '2026-10-25 00:30+00',
                                                   '2026-10-25 02:00+00', '2026-10-25 02:30+00', '2026-10-25 03:00+00']::timestamptz[],
                     format('Berlin */30 walk across fall back: %s', got));
END;
$$;

-- Against brute force, around daylight-saving transitions: every minute of
-- a window is turned into its wall time; a wall time that matches fires at
-- the first instant showing it.  schedule_next, walked from the start and
-- asked from 100 random instants (fixed seed), must give exactly those.
CREATE TABLE pg_temp.brute_cases (tz text, rule text, matches text, t0 timestamptz, t1 timestamptz);
INSERT INTO pg_temp.brute_cases VALUES
  ('Europe/Berlin', '*/7 * * * *', 'extract(minute FROM {w})::int % 7 = 0', '2026-10-24 22:00+00', '2026-10-25 04:00+00'),
  ('Europe/Berlin', '*/7 * * * *', 'extract(minute FROM {w})::int % 7 = 0', '2026-03-28 22:00+00', '2026-03-29 04:00+00'),
  ('America/New_York', '5,50 1-3 * * *', 'extract(minute FROM {w})::int IN (5, 50) AND extract(hour FROM {w})::int BETWEEN 1 AND 3', '2026-10-31 20:00+00', '2026-11-02 12:00+00'),
  ('America/New_York', '5,50 1-3 * * *', 'extract(minute FROM {w})::int IN (5, 50) AND extract(hour FROM {w})::int BETWEEN 1 AND 3', '2026-03-07 20:00+00', '2026-03-09 12:00+00'),
  ('Australia/Lord_Howe', '*/10 * * * *', 'extract(minute FROM {w})::int % 10 = 0', '2026-04-04 12:00+00', '2026-04-04 18:00+00'),
  ('Australia/Lord_Howe', '*/10 * * * *', 'extract(minute FROM {w})::int % 10 = 0', '2026-10-03 12:00+00', '2026-10-03 18:00+00');

DO $$
DECLARE
  c record;
  brute timestamptz[];
  walk timestamptz[];
  t timestamptz;
  a timestamptz;
  want timestamptz;
  got timestamptz;
BEGIN
  PERFORM setseed(0.42);
  FOR c IN SELECT * FROM pg_temp.brute_cases LOOP
    EXECUTE format($q$
      SELECT array_agg(first ORDER BY first)
        FROM (SELECT x.w, min(x.u) AS first
                FROM (SELECT u, u AT TIME ZONE %L AS w
                        FROM generate_series(%L::timestamptz - interval '5 hours', %L::timestamptz + interval '1 day', interval '1 minute') AS u) AS x
               GROUP BY x.w) AS y
       WHERE %s$q$, c.tz, c.t0, c.t1, replace(c.matches, '{w}', 'y.w')) INTO brute;
    walk := '{}';
    t := c.t0;
    LOOP
      t := app_jobs.schedule_next(json_build_object('rule', c.rule, 'tz', c.tz), t);
      EXIT WHEN t IS NULL OR t > c.t1;
      walk := walk || t;
    END LOOP;
    PERFORM pg_temp.ok(walk IS NOT DISTINCT FROM ARRAY(SELECT x FROM unnest(brute) AS x WHERE x > c.t0 AND x <= c.t1 ORDER BY x),
                       format('%s in %s: walk %s, brute force %s', c.rule, c.tz, walk, coalesce(brute::text, '<NULL>')));
    FOR i IN 1..100 LOOP
      a := c.t0 + (c.t1 - c.t0) * random();
      got := app_jobs.schedule_next(json_build_object('rule', c.rule, 'tz', c.tz), a);
      SELECT min(x) INTO want FROM unnest(brute) AS x WHERE x > a;
      PERFORM pg_temp.ok(got IS NOT DISTINCT FROM want,
                         format('%s in %s, after %s: got %s, brute force %s', c.rule, c.tz, a,
                                coalesce(got::text, '<NULL>'), coalesce(want::text, '<NULL>')));
    END LOOP;
  END LOOP;
END;
$$;

-- infinity and NULL
DO $$
BEGIN
  PERFORM pg_temp.ok(app_jobs.schedule_next('{"rule": "* * * * *"}', 'infinity') IS NULL, 'nothing fires after infinity');
  PERFORM pg_temp.ok(app_jobs.schedule_next('{"rule": "* * * * *"}', NULL) IS NULL AND app_jobs.schedule_next(NULL, now()) IS NULL,
                     'NULL in, NULL out');
END;
$$;

-- invalid schedules raise
DO $$
BEGIN
  PERFORM app_jobs.schedule_next('{"rule": "* * * * * * *"}', now());
  RAISE EXCEPTION 'FAILED: schedule_next accepted 7 fields';
EXCEPTION WHEN invalid_parameter_value THEN
  NULL;
END;
$$;

-- Bounded, and quick: the worst patterns (an impossible date scans 401
-- years; a leap day on a given weekday lies decades ahead) answer well
-- within a second each, never by walking seconds.
DO $$
DECLARE
  t0 timestamptz := clock_timestamp();
  elapsed interval;
BEGIN
  PERFORM app_jobs.schedule_next('{"rule": "0 0 30 2 *"}', '2026-01-01 00:00+00');
  PERFORM app_jobs.schedule_next('{"month": 1, "date": 29, "dayOfWeek": 1}', '2026-01-01 00:00+00');
  PERFORM app_jobs.schedule_next('{"rule": "* * * * * *"}', '2026-01-01 00:00+00');
  PERFORM app_jobs.schedule_next('{"rule": "59 59 23 31 12 *", "tz": "Europe/Berlin"}', '2026-01-01 00:00+00');
  elapsed := clock_timestamp() - t0;
  PERFORM pg_temp.ok(elapsed <= interval '2 seconds', format('4 hard schedule_next calls took %s', elapsed));
END;
$$;

ROLLBACK;
