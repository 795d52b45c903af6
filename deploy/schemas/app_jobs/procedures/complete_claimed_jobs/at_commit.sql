-- Deploy pgpm-jobs:schemas/app_jobs/procedures/complete_claimed_jobs/at_commit to pg
-- requires: schemas/app_jobs/procedures/complete_claimed_jobs
-- requires: schemas/app_jobs/tables/jobs/triggers/job_queue_count/at_commit

BEGIN;

-- complete_job for many jobs: the worker holding the locks reports
-- success.  Its jobs among job_ids are deleted and the deleted rows
-- returned; ids it does not hold (another worker's, an expired and
-- recovered lock, unknown, unlocked, NULL) are skipped and left unchanged.
-- Their queues are unlocked at commit by the queue bookkeeping, as for
-- complete_job (procedures/complete_job/at_commit says why).
CREATE OR REPLACE FUNCTION app_jobs.complete_claimed_jobs(
  worker_id text,
  job_ids bigint[]
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF complete_claimed_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  RETURN QUERY
    DELETE FROM app_jobs.jobs AS j
     WHERE j.id = ANY (complete_claimed_jobs.job_ids)
       AND j.locked_by = complete_claimed_jobs.worker_id
    RETURNING j.*;
END;
$$;

COMMIT;
