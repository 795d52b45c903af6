-- Deploy pgpm-jobs:schemas/app_jobs/tables/job_queues/indexes/job_queues_locked_at_idx to pg
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- Locked queues by lock age, so that the claim functions find queue locks
-- older than the job expiry with one index probe (none, usually) and
-- release them before they look for available queues.
CREATE INDEX job_queues_locked_at_idx ON app_jobs.job_queues (locked_at) WHERE locked_at IS NOT NULL;

COMMIT;
