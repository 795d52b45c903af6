-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_queued_runnable_idx to pg
-- requires: schemas/app_jobs/tables/jobs/table

BEGIN;

-- The claim index for jobs of named queues: get_job looks up the head of
-- each available queue here, so the backlog of a busy (locked) queue is
-- never scanned by anybody.
CREATE INDEX jobs_queued_runnable_idx ON app_jobs.jobs (queue_name, priority, run_at, id) WHERE queue_name IS NOT NULL AND locked_at IS NULL AND attempts < max_attempts;

COMMIT;
