-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_next to pg
-- requires: schemas/app_jobs/procedures/parse_schedule_info
-- requires: schemas/app_jobs/procedures/schedule_spec_next

BEGIN;

-- When a schedule fires next: the first slot strictly after `after`, or
-- NULL when it never fires again (past its end, or an impossible date such
-- as 30 February).  Raises INVALID_SCHEDULE_INFO for an invalid schedule.
-- See app_jobs.parse_schedule_info for the forms and
-- app_jobs.schedule_spec_next for time zones and daylight saving.
CREATE FUNCTION app_jobs.schedule_next(
  schedule_info json,
  after timestamptz
)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN app_jobs.schedule_spec_next(app_jobs.parse_schedule_info(schedule_next.schedule_info), schedule_next.after);
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_next(json, timestamptz) IS
  'The first slot of schedule_info strictly after `after`, or NULL when it never fires again';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_next(json, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_next(json, timestamptz) TO administrator;

COMMIT;
