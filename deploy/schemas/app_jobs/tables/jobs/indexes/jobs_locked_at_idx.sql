-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_locked_at_idx to pg
-- requires: schemas/app_jobs/tables/jobs/table

BEGIN;

-- Running jobs only (a small set): get_job finds expired locks through it
-- in O(1) when there are none, and release_jobs finds a worker's jobs.
CREATE INDEX jobs_locked_at_idx ON app_jobs.jobs (locked_at) WHERE locked_at IS NOT NULL;

COMMIT;
