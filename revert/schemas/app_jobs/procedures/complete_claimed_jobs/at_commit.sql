-- Revert pgpm-jobs:schemas/app_jobs/procedures/complete_claimed_jobs/at_commit from pg

BEGIN;

-- Back to the definition of procedures/complete_claimed_jobs (@0.3.0): the
-- queues are unlocked by the function itself.
CREATE OR REPLACE FUNCTION app_jobs.complete_claimed_jobs(
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

COMMIT;
