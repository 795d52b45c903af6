-- Deploy pgpm-jobs:schemas/app_jobs/types/schedule_spec to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- A schedule_info compiled by app_jobs.parse_schedule_info: the sets of
-- matching values per calendar unit, ready for the search in
-- app_jobs.schedule_spec_next.  Arrays are sorted and free of duplicates;
-- a unit without restriction holds its full range.
CREATE TYPE app_jobs.schedule_spec AS (
  seconds integer[],          -- 0-59
  minutes integer[],          -- 0-59
  hours integer[],            -- 0-23
  days integer[],             -- days of the month, 1-31
  last_day boolean,           -- cron "L" in day-of-month: the last day of the month
  months integer[],           -- 1-12 (the recurrence form's 0-11 plus one)
  weekdays integer[],         -- 0-6, 0 = Sunday
  last_weekdays integer[],    -- cron "nL": the last weekday n of the month
  nth_weekdays integer[],     -- cron "n#k", stored as n * 10 + k
  day_restricted boolean,     -- day-of-month given (cron: the field does not start with * or ?)
  weekday_restricted boolean, -- day-of-week given (same rule)
  either_day boolean,         -- cron: both restricted means either may match; recurrence: both must
  years integer[],            -- NULL = any year
  tz text,                    -- IANA zone; NULL = UTC
  starts_at timestamptz,      -- no slot before this
  ends_at timestamptz,        -- no slot after this
  catchup text,               -- 'latest' or 'backfill'
  catchup_window interval     -- missed slots older than this are not fired; NULL = no limit
);

COMMENT ON TYPE app_jobs.schedule_spec IS
  'A schedule_info compiled by app_jobs.parse_schedule_info (sets of matching values per unit, bounds, zone, catch-up policy)';

COMMIT;
