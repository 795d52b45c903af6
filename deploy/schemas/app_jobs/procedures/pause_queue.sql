-- Deploy pgpm-jobs:schemas/app_jobs/procedures/pause_queue to pg
-- requires: schemas/app_jobs/tables/job_queues/columns/paused_at
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues
-- requires: schemas/app_jobs/procedures/get_job/paused_queues
-- requires: schemas/app_jobs/procedures/get_jobs/paused_queues

BEGIN;

-- Admin: pause a named queue.  From the commit on, get_job and get_jobs
-- claim none of its jobs; add_job and add_jobs still enqueue into it; a job
-- of it that is running goes on and completes or fails as usual.  The pause
-- is paused_at on the queue's row, created (job_count 0) when the queue has
-- no jobs yet, so that a queue can be paused before its first job; the row
-- stays while the queue is paused, even empty (the count trigger keeps it).
-- Pausing again keeps the first paused_at.
--
-- Locks: one row of job_queues, for the rest of the caller's transaction.
-- Claims skip a locked queue row (SKIP LOCKED), so a pause never blocks a
-- worker, on this queue or any other; it waits only for a transaction that
-- is enqueueing into this very queue (the counter update holds the row).
-- Queue-less jobs (queue_name NULL) cannot be paused: raises 22023.
-- Returns the queue's row.
CREATE FUNCTION app_jobs.pause_queue(
  queue_name text
)
RETURNS app_jobs.job_queues
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_row app_jobs.job_queues;
BEGIN
  IF pause_queue.queue_name IS NULL THEN
    RAISE EXCEPTION 'app_jobs.pause_queue: queue_name must not be NULL (jobs without a queue cannot be paused)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO app_jobs.job_queues AS q (queue_name, job_count, paused_at)
  VALUES (pause_queue.queue_name, 0, now())
  ON CONFLICT ON CONSTRAINT job_queues_pkey
  DO UPDATE SET paused_at = coalesce(q.paused_at, excluded.paused_at)
  RETURNING q.* INTO v_row;
  RETURN v_row;
END;
$$;

COMMENT ON FUNCTION app_jobs.pause_queue(text) IS
  'Admin: pause a named queue: its jobs are enqueued but not claimed until resume_queue; returns the queue row';

REVOKE EXECUTE ON FUNCTION app_jobs.pause_queue(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.pause_queue(text) TO administrator;

COMMIT;
