-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_check_schedule_info to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at
-- requires: schemas/app_jobs/procedures/parse_schedule_info
-- requires: schemas/app_jobs/procedures/schedule_spec_next

BEGIN;

-- BEFORE INSERT OR UPDATE OF schedule_info on app_jobs.scheduled_jobs:
-- every write of a schedule (add_scheduled_job, its keyed upsert, plain
-- INSERT/UPDATE) is checked by app_jobs.parse_schedule_info, which raises
-- INVALID_SCHEDULE_INFO naming the bad key or field.  Sets next_run_at:
-- on INSERT when not given; on UPDATE when the schedule changed (as jsonb)
-- and next_run_at was not set by the same statement.  A NULL schedule_info
-- is left to the NOT NULL constraint.  Other updates (claims,
-- last_scheduled, next_run_at itself) do not fire it, so rows written
-- before this release keep working even if their schedule does not parse.
CREATE FUNCTION app_jobs.tg_check_schedule_info()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_spec app_jobs.schedule_spec;
BEGIN
  IF NEW.schedule_info IS NULL THEN
    RETURN NEW;
  END IF;
  v_spec := app_jobs.parse_schedule_info(NEW.schedule_info);
  IF TG_OP = 'INSERT' THEN
    IF NEW.next_run_at IS NULL THEN
      NEW.next_run_at := app_jobs.schedule_spec_next(v_spec, now());
    END IF;
  ELSIF NEW.schedule_info::jsonb IS DISTINCT FROM OLD.schedule_info::jsonb
        AND NEW.next_run_at IS NOT DISTINCT FROM OLD.next_run_at THEN
    NEW.next_run_at := app_jobs.schedule_spec_next(v_spec, now());
  END IF;
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION app_jobs.tg_check_schedule_info() IS
  'Trigger: validate schedule_info on every write of it and set next_run_at';

REVOKE EXECUTE ON FUNCTION app_jobs.tg_check_schedule_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.tg_check_schedule_info() TO administrator;

COMMIT;
