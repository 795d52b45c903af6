-- Revert pgpm-jobs:schemas/app_jobs/procedures/run_due_scheduled_jobs from pg

BEGIN;

DROP FUNCTION app_jobs.run_due_scheduled_jobs(timestamptz, integer, interval);

COMMIT;
