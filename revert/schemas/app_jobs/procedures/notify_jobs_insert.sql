-- Revert pgpm-jobs:schemas/app_jobs/procedures/notify_jobs_insert from pg

BEGIN;

DROP FUNCTION app_jobs.notify_jobs_insert(text);

COMMIT;
