-- Deploy pgpm-jobs:schemas/app_jobs/procedures/complete_job/at_commit to pg
-- requires: schemas/app_jobs/procedures/complete_job
-- requires: schemas/app_jobs/tables/jobs/triggers/job_queue_count/at_commit

BEGIN;

-- The worker holding the lock reports success: the job is deleted and the
-- deleted row returned; anyone else (another worker, a worker whose expired
-- lock was recovered and maybe re-claimed, an unknown id) gets the all-NULL
-- row and nothing changes.  The job's queue is unlocked when the
-- transaction commits, by the commit-time queue bookkeeping
-- (triggers/tg_apply_job_queue_count), not here: an UPDATE of the queue's
-- row here would hold its lock from this statement to the commit, and a
-- transaction that also enqueues into another named queue could then
-- deadlock with one doing the opposite.
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
  RETURN v_row;
END;
$$;

COMMIT;
