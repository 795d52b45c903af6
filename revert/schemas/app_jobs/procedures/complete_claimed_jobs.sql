-- Revert pgpm-jobs:schemas/app_jobs/procedures/complete_claimed_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.complete_claimed_jobs(text, bigint[]);

COMMIT;
