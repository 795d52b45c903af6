-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_local_instant from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_local_instant(timestamp, text);

COMMIT;
