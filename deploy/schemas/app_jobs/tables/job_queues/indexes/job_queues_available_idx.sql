-- Deploy pgpm-jobs:schemas/app_jobs/tables/job_queues/indexes/job_queues_available_idx to pg
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- The named queues a claim may take a job from: those not locked by a
-- running job.  Every counter update (one per job added to or removed from
-- a queue) leaves a dead row version behind, so after a bulk load into a
-- queue the table can span a hundred pages for a handful of live rows; a
-- claim that scanned it would read them all.  Through this index it reads
-- only the unlocked queues (measured in docs/performance.md, "stuck").
CREATE INDEX job_queues_available_idx ON app_jobs.job_queues (queue_name) WHERE locked_at IS NULL;

COMMIT;
