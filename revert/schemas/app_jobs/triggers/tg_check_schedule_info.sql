-- Revert pgpm-jobs:schemas/app_jobs/triggers/tg_check_schedule_info from pg

BEGIN;

DROP FUNCTION app_jobs.tg_check_schedule_info();

COMMIT;
