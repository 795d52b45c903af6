-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table
-- requires: schemas/app_jobs/procedures/parse_schedule_info
-- requires: schemas/app_jobs/procedures/schedule_spec_next

BEGIN;

-- The next slot of the definition that app_jobs.run_due_scheduled_jobs
-- will consider: due once it is <= now.  Set from schedule_info when a row
-- is inserted (from now(), unless the INSERT gives it) or its schedule
-- changes (trigger schedule_info_on_write), and moved forward by
-- run_due_scheduled_jobs as it fires or skips slots.  NULL: never fires
-- again (past its end, impossible date).  An administrator may set it by
-- hand to re-time a definition; it is a lower bound for the slots fired.
ALTER TABLE app_jobs.scheduled_jobs ADD COLUMN next_run_at timestamptz;

COMMENT ON COLUMN app_jobs.scheduled_jobs.next_run_at IS
  'Next slot run_due_scheduled_jobs considers (due when <= now); NULL = never fires again';

-- Definitions that exist already start from now.  A schedule_info that the
-- first release accepted but that does not evaluate (a bad cron value, a
-- non-ISO start) gets NULL and a warning; it never fires by itself until
-- it is fixed, and keeps working with run_scheduled_job.
DO $$
DECLARE
  r record;
  v_next timestamptz;
BEGIN
  FOR r IN SELECT s.id, s.schedule_info FROM app_jobs.scheduled_jobs AS s ORDER BY s.id LOOP
    BEGIN
      v_next := app_jobs.schedule_spec_next(app_jobs.parse_schedule_info(r.schedule_info), now());
    EXCEPTION WHEN invalid_parameter_value THEN
      RAISE WARNING 'app_jobs.scheduled_jobs id %: schedule_info % does not evaluate, it will not fire until it is fixed',
        r.id, r.schedule_info;
      CONTINUE;
    END;
    UPDATE app_jobs.scheduled_jobs AS s SET next_run_at = v_next WHERE s.id = r.id;
  END LOOP;
END;
$$;

COMMIT;
