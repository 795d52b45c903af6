-- Revert pgpm-jobs:schemas/app_jobs/procedures/complete_job/at_commit from pg

BEGIN;

-- Back to the definition of procedures/complete_job (@0.1.0): the queue is
-- unlocked by the function itself.
CREATE OR REPLACE FUNCTION app_jobs.complete_job(
  worker_id text,
  job_id bigint
)
RETURNS app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_row app_jobs.jobs;
BEGIN
  IF complete_job.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  DELETE FROM app_jobs.jobs AS j
   WHERE j.id = complete_job.job_id
     AND j.locked_by = complete_job.worker_id
  RETURNING j.* INTO v_row;

  IF v_row.queue_name IS NOT NULL THEN
    UPDATE app_jobs.job_queues AS q
       SET locked_at = NULL, locked_by = NULL
     WHERE q.queue_name = v_row.queue_name
       AND q.locked_by = complete_job.worker_id;
  END IF;
  RETURN v_row;
END;
$$;

COMMIT;
