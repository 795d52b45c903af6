-- Revert pgpm-jobs:schemas/app_jobs/procedures/cancel_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.cancel_jobs(bigint[], text, text, uuid);

COMMIT;
