-- Revert pgpm-jobs:schemas/app_jobs/procedures/job_stats from pg

BEGIN;

DROP FUNCTION app_jobs.job_stats(uuid);

COMMIT;
