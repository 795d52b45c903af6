-- Deploy pgpm-jobs:schemas/app_jobs/procedures/release_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table
-- requires: schemas/app_jobs/tables/jobs/indexes/jobs_locked_at_idx

BEGIN;

-- Graceful shutdown of worker_id: its jobs are unlocked and their claim's
-- attempt is undone (attempts - 1), its queues unlocked.  Superseded jobs
-- (a newer job holds their key) are deleted instead of being run again.
CREATE FUNCTION app_jobs.release_jobs(
  worker_id text
)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF release_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  -- "locked_at IS NOT NULL" lets these use jobs_locked_at_idx (running jobs only)
  DELETE FROM app_jobs.jobs AS j
   WHERE j.locked_at IS NOT NULL
     AND j.locked_by = release_jobs.worker_id
     AND j.superseded;

  UPDATE app_jobs.jobs AS j
     SET locked_at = NULL,
         locked_by = NULL,
         attempts = greatest(j.attempts - 1, 0),
         updated_at = now()
   WHERE j.locked_at IS NOT NULL
     AND j.locked_by = release_jobs.worker_id;

  UPDATE app_jobs.job_queues AS q
     SET locked_at = NULL, locked_by = NULL
   WHERE q.locked_by = release_jobs.worker_id;
END;
$$;

COMMENT ON FUNCTION app_jobs.release_jobs(text) IS
  'Graceful shutdown: unlock the jobs (undoing the claimed attempt) and queues of worker_id';

REVOKE EXECUTE ON FUNCTION app_jobs.release_jobs(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.release_jobs(text) TO administrator;

COMMIT;
