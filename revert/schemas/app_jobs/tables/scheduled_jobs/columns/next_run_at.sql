-- Revert pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at from pg

BEGIN;

ALTER TABLE app_jobs.scheduled_jobs DROP COLUMN next_run_at;

COMMIT;
