-- Deploy pgpm-jobs:schemas/app_jobs/tables/job_queues/columns/paused_at to pg
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- When the queue was paused (app_jobs.pause_queue); NULL = running.  A
-- paused queue keeps taking jobs (add_job does not look at it) but no claim
-- takes one from it.  The pause lives on the queue's row, so that a claim
-- pays nothing for it: the claim already reads the row of every queue it
-- takes a job from, and finds candidate queues through a partial index
-- that leaves paused queues out (job_queues_claimable_idx).  After the
-- contract's columns, as the contract asks.
ALTER TABLE app_jobs.job_queues ADD COLUMN paused_at timestamptz;

COMMENT ON COLUMN app_jobs.job_queues.paused_at IS
  'When the queue was paused (app_jobs.pause_queue): no job of a paused queue is claimed; NULL = running';

COMMIT;
