-- Revert pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/last_slot from pg

BEGIN;

ALTER TABLE app_jobs.scheduled_jobs DROP COLUMN last_slot;

COMMIT;
