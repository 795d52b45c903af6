-- Revert pgpm-jobs:schemas/app_jobs/procedures/purge_failed_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.purge_failed_jobs(interval, bigint[], text, text, uuid);

COMMIT;
