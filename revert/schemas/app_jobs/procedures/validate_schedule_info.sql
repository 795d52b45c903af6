-- Revert pgpm-jobs:schemas/app_jobs/procedures/validate_schedule_info from pg

BEGIN;

DROP FUNCTION app_jobs.validate_schedule_info(json);

COMMIT;
