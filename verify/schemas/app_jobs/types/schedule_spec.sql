-- Verify pgpm-jobs:schemas/app_jobs/types/schedule_spec on pg

BEGIN;

SELECT verify_type('app_jobs.schedule_spec');

DO $$
DECLARE
  expected constant text[] := ARRAY[
    'seconds integer[]', 'minutes integer[]', 'hours integer[]', 'days integer[]',
    'last_day boolean', 'months integer[]', 'weekdays integer[]', 'last_weekdays integer[]',
    'nth_weekdays integer[]', 'day_restricted boolean', 'weekday_restricted boolean',
    'either_day boolean', 'years integer[]', 'tz text', 'starts_at timestamp with time zone',
    'ends_at timestamp with time zone', 'catchup text', 'catchup_window interval'];
  actual text[];
BEGIN
  SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
    INTO actual
    FROM pg_attribute a
   WHERE a.attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'app_jobs.schedule_spec'::regtype)
     AND a.attnum > 0 AND NOT a.attisdropped;
  IF actual IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'app_jobs.schedule_spec has attributes %, expected %', actual, expected;
  END IF;
END;
$$;

ROLLBACK;
