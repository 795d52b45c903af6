-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/triggers/schedule_info_on_write to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table
-- requires: schemas/app_jobs/triggers/tg_check_schedule_info

BEGIN;

CREATE TRIGGER schedule_info_on_write
  BEFORE INSERT OR UPDATE OF schedule_info ON app_jobs.scheduled_jobs
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_check_schedule_info();

COMMIT;
