-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_next_run_at_idx to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at

BEGIN;

-- run_due_scheduled_jobs reads the due, unclaimed definitions in slot
-- order: an idle call is one index probe.
CREATE INDEX scheduled_jobs_next_run_at_idx ON app_jobs.scheduled_jobs (next_run_at, id)
  WHERE locked_at IS NULL AND next_run_at IS NOT NULL;

COMMIT;
