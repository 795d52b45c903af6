-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_locked_by_idx to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- release_scheduled_jobs finds a scheduler's definitions.
CREATE INDEX scheduled_jobs_locked_by_idx ON app_jobs.scheduled_jobs (locked_by) WHERE locked_by IS NOT NULL;

COMMIT;
