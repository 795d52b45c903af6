-- Revert pgpm-jobs:schemas/app_jobs/procedures/add_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.add_jobs(jsonb);

COMMIT;
