-- Deploy pgpm-jobs:schemas/app_jobs/procedures/validate_schedule_info/full_validation to pg
-- requires: schemas/app_jobs/procedures/validate_schedule_info
-- requires: schemas/app_jobs/procedures/parse_schedule_info

BEGIN;

-- validate_schedule_info now checks everything the evaluation reads (cron
-- field values, steps, names, day-of-week 0-7, L and #, the catch-up keys,
-- start/end against tz), through app_jobs.parse_schedule_info.  Same
-- signature, same result (its argument) and the same INVALID_SCHEDULE_INFO
-- error; the DETAIL texts of the first release are kept, new ones name the
-- key or cron field.
CREATE OR REPLACE FUNCTION app_jobs.validate_schedule_info(
  schedule_info json
)
RETURNS json
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM app_jobs.parse_schedule_info(validate_schedule_info.schedule_info);
  RETURN validate_schedule_info.schedule_info;
END;
$$;

COMMENT ON FUNCTION app_jobs.validate_schedule_info(json) IS
  'Check schedule_info (rule or recurrence form) as app_jobs.parse_schedule_info does; returns it or raises INVALID_SCHEDULE_INFO';

COMMIT;
