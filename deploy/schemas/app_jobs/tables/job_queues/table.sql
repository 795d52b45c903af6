-- Deploy pgpm-jobs:schemas/app_jobs/tables/job_queues/table to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- One row per named queue that currently has jobs.  The row is created by
-- the first job of the queue and removed with its last job (see the
-- job_queue_count triggers), so the table holds only live queues.
-- Queue names are global, not per tenant: prefix them with the tenant if
-- tenants must not share a serial queue.
CREATE TABLE app_jobs.job_queues (
  queue_name text NOT NULL,
  job_count integer NOT NULL DEFAULT 0,
  locked_at timestamptz,
  locked_by text,
  CONSTRAINT job_queues_pkey PRIMARY KEY (queue_name),
  CONSTRAINT job_queues_lock_check CHECK ((locked_at IS NULL) = (locked_by IS NULL))
);

COMMENT ON TABLE app_jobs.job_queues IS
  'Named serial queues: at most one job of a queue runs at a time; the row exists while the queue has jobs';
COMMENT ON COLUMN app_jobs.job_queues.queue_name IS 'Queue name (global across tenants)';
COMMENT ON COLUMN app_jobs.job_queues.job_count IS 'Number of rows in app_jobs.jobs with this queue_name, kept exact by triggers';
COMMENT ON COLUMN app_jobs.job_queues.locked_at IS 'When the running job of this queue was claimed';
COMMENT ON COLUMN app_jobs.job_queues.locked_by IS 'Worker running the job of this queue';

COMMIT;
