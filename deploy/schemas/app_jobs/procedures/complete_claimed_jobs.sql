-- Deploy pgpm-jobs:schemas/app_jobs/procedures/complete_claimed_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- complete_job for many jobs: the worker holding the locks reports
-- success.  Its jobs among job_ids are deleted, their queues unlocked, and
-- the deleted rows returned; ids it does not hold (another worker's, an
-- expired and recovered lock, unknown, unlocked, NULL) are skipped and
-- left unchanged.  Not the admin function complete_jobs(job_ids), which
-- removes unlocked jobs whoever asks: this one is guarded by the owner.
CREATE FUNCTION app_jobs.complete_claimed_jobs(
  worker_id text,
  job_ids bigint[]
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_rows app_jobs.jobs[];
BEGIN
  IF complete_claimed_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  WITH d AS (
    DELETE FROM app_jobs.jobs AS j
     WHERE j.id = ANY (complete_claimed_jobs.job_ids)
       AND j.locked_by = complete_claimed_jobs.worker_id
    RETURNING j.*
  )
  SELECT array_agg(d) INTO v_rows FROM d;

  IF v_rows IS NULL THEN
    RETURN;
  END IF;
  UPDATE app_jobs.job_queues AS q
     SET locked_at = NULL, locked_by = NULL
   WHERE q.queue_name IN (SELECT r.queue_name FROM unnest(v_rows) AS r WHERE r.queue_name IS NOT NULL)
     AND q.locked_by = complete_claimed_jobs.worker_id;
  RETURN QUERY SELECT * FROM unnest(v_rows);
END;
$$;

COMMENT ON FUNCTION app_jobs.complete_claimed_jobs(text, bigint[]) IS
  'Lock holder completes many jobs: delete those it holds, unlock their queues, return them; other ids are skipped';

REVOKE EXECUTE ON FUNCTION app_jobs.complete_claimed_jobs(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.complete_claimed_jobs(text, bigint[]) TO administrator;

COMMIT;
