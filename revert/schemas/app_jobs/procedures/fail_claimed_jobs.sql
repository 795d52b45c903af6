-- Revert pgpm-jobs:schemas/app_jobs/procedures/fail_claimed_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.fail_claimed_jobs(text, bigint[], text);

COMMIT;
