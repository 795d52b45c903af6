-- Revert pgpm-jobs:schemas/app_jobs/procedures/fail_job from pg

BEGIN;

DROP FUNCTION app_jobs.fail_job(text, bigint, text);

COMMIT;
