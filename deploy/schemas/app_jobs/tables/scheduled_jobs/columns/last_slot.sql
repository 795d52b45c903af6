-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/last_slot to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- The slot of the last job that run_due_scheduled_jobs spawned from the
-- definition (the spawned job's run_at); NULL until the first.
ALTER TABLE app_jobs.scheduled_jobs ADD COLUMN last_slot timestamptz;

COMMENT ON COLUMN app_jobs.scheduled_jobs.last_slot IS
  'Slot of the last job spawned by run_due_scheduled_jobs';

COMMIT;
