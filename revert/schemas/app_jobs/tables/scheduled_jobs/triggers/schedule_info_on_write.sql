-- Revert pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/triggers/schedule_info_on_write from pg

BEGIN;

DROP TRIGGER schedule_info_on_write ON app_jobs.scheduled_jobs;

COMMIT;
