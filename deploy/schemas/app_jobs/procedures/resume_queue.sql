-- Deploy pgpm-jobs:schemas/app_jobs/procedures/resume_queue to pg
-- requires: schemas/app_jobs/tables/job_queues/columns/paused_at
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues
-- requires: schemas/app_jobs/procedures/notify_jobs_insert

BEGIN;

-- Admin: resume a paused queue.  Its jobs are claimable again from the
-- commit on, in the order they would have run (nothing about them changed
-- while paused: run_at, priority and attempts are as they were).  A queue
-- that ran empty while paused loses its row, as any empty queue does.
-- Wakes listening workers (jobs:insert, through notify_jobs_insert and the
-- app_jobs.notify setting) when the queue has jobs.  Returns the queue's
-- row as it is now (job_count 0 for an emptied queue whose row is gone), or
-- the all-NULL row for a queue that has neither jobs nor a pause.
-- Resuming a queue that is not paused changes nothing.
CREATE FUNCTION app_jobs.resume_queue(
  queue_name text
)
RETURNS app_jobs.job_queues
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_row app_jobs.job_queues;
  v_was_paused boolean;
BEGIN
  IF resume_queue.queue_name IS NULL THEN
    RAISE EXCEPTION 'app_jobs.resume_queue: queue_name must not be NULL'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT q.paused_at IS NOT NULL INTO v_was_paused
    FROM app_jobs.job_queues AS q
   WHERE q.queue_name = resume_queue.queue_name
     FOR UPDATE;
  IF NOT coalesce(v_was_paused, false) THEN
    SELECT q.* INTO v_row FROM app_jobs.job_queues AS q WHERE q.queue_name = resume_queue.queue_name;
    RETURN v_row;
  END IF;
  UPDATE app_jobs.job_queues AS q
     SET paused_at = NULL
   WHERE q.queue_name = resume_queue.queue_name
  RETURNING q.* INTO v_row;
  IF v_row.job_count <= 0 THEN
    -- empty: the row existed only for the pause
    DELETE FROM app_jobs.job_queues AS q
     WHERE q.queue_name = resume_queue.queue_name AND q.job_count <= 0 AND q.paused_at IS NULL;
  ELSE
    PERFORM app_jobs.notify_jobs_insert(NULL);
  END IF;
  RETURN v_row;
END;
$$;

COMMENT ON FUNCTION app_jobs.resume_queue(text) IS
  'Admin: resume a paused queue: its jobs are claimable again; returns the queue row';

REVOKE EXECUTE ON FUNCTION app_jobs.resume_queue(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.resume_queue(text) TO administrator;

COMMIT;
