-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_runnable_idx to pg
-- requires: schemas/app_jobs/tables/jobs/table

BEGIN;

-- The claim index for jobs without a named queue.  Only rows that may run
-- are in it: a claimed (locked) or permanently failed job leaves it, and so
-- do queued jobs (their own index below), so a claim never walks over them.
-- get_job probes it per priority with run_at <= now() as an index bound, so
-- future jobs are not read either.  No INCLUDE columns: FOR UPDATE visits
-- the heap anyway, so they would only make the index bigger.
CREATE INDEX jobs_runnable_idx ON app_jobs.jobs (priority, run_at, id) WHERE queue_name IS NULL AND locked_at IS NULL AND attempts < max_attempts;

COMMIT;
