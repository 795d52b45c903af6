-- Revert pgpm-jobs:schemas/app_jobs/procedures/refresh_job_locks from pg

BEGIN;

DROP FUNCTION app_jobs.refresh_job_locks(text, bigint[]);

COMMIT;
