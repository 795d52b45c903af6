-- Deploy pgpm-jobs:schemas/app_jobs/procedures/complete_job to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- The worker holding the lock reports success: the job is deleted and its
-- queue unlocked, and the deleted row is returned.  Anyone else (another
-- worker, a worker whose expired lock was recovered and maybe re-claimed,
-- an unknown id) gets the all-NULL row and nothing changes.
CREATE FUNCTION app_jobs.complete_job(
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

COMMENT ON FUNCTION app_jobs.complete_job(text, bigint) IS
  'Lock holder completes a job: delete it, unlock its queue; all-NULL row (and no change) for anybody else';

REVOKE EXECUTE ON FUNCTION app_jobs.complete_job(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.complete_job(text, bigint) TO administrator;

COMMIT;
