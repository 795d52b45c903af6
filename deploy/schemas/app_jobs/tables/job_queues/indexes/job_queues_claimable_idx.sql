-- Deploy pgpm-jobs:schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx to pg
-- requires: schemas/app_jobs/tables/job_queues/columns/paused_at

BEGIN;

-- The named queues a claim may take a job from: neither locked by a
-- running job nor paused.  get_job's step 0 probe and step 2 (and get_jobs'
-- step 2) read this index instead of job_queues_available_idx, so that a
-- paused queue costs a claim nothing: with the older index a paused queue
-- with jobs would make step 0 report "an available queue" on every claim,
-- and step 2 would then visit its row and its head job for nothing.
-- job_queues_available_idx stays (its release's verify script checks it,
-- and reverting to @0.5.0 needs it); its upkeep is one index entry per
-- queue lock change.
CREATE INDEX job_queues_claimable_idx ON app_jobs.job_queues (queue_name)
  WHERE locked_at IS NULL AND paused_at IS NULL;

COMMIT;
