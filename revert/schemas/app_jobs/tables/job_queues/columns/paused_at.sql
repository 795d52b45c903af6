-- Revert pgpm-jobs:schemas/app_jobs/tables/job_queues/columns/paused_at from pg

BEGIN;

-- Only a paused queue's row outlives its last job; without the column the
-- earlier releases expect a row only while the queue has jobs.
DELETE FROM app_jobs.job_queues AS q WHERE q.job_count <= 0;

ALTER TABLE app_jobs.job_queues DROP COLUMN paused_at;

COMMIT;
