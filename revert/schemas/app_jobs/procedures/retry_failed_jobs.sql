-- Revert pgpm-jobs:schemas/app_jobs/procedures/retry_failed_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.retry_failed_jobs(bigint[], text, text, uuid, timestamp with time zone);

COMMIT;
