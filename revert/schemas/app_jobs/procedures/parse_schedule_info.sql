-- Revert pgpm-jobs:schemas/app_jobs/procedures/parse_schedule_info from pg

BEGIN;

DROP FUNCTION app_jobs.parse_schedule_info(json);

COMMIT;
