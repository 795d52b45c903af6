-- Revert pgpm-jobs:schemas/app_jobs/procedures/job_expiry from pg

BEGIN;

DROP FUNCTION app_jobs.job_expiry();

COMMIT;
