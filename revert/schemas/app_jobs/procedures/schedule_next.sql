-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_next from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_next(json, timestamptz);

COMMIT;
