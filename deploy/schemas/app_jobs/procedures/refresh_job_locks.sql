-- Deploy pgpm-jobs:schemas/app_jobs/procedures/refresh_job_locks to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- The heartbeat of a live worker: move the lock of the jobs it still
-- holds (and of their named queues) to now(), so that a job running longer
-- than the lock expiry is not recovered and run a second time while its
-- worker is alive.  A dead worker stops calling it, and its jobs come back
-- through expiry as before.
--
-- Only the lock holder's jobs are touched (locked_by = worker_id): a lock
-- that expired and was recovered by get_job belongs to nobody any more and
-- is not revived; ids of other workers, unlocked or unknown jobs are
-- skipped.  job_ids NULL means every job the worker holds.  Returns the ids
-- whose lock was refreshed, so the worker learns which jobs it lost.
--
-- Rows are locked in id order, then queues in name order, the order that
-- complete and fail take them in (job row, then queue row), so concurrent
-- calls and completions cannot deadlock.  Only locked_at and updated_at
-- change.
CREATE FUNCTION app_jobs.refresh_job_locks(
  worker_id text,
  job_ids bigint[] DEFAULT NULL
)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_ids bigint[];
  v_queues text[];
BEGIN
  IF refresh_job_locks.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  -- Two static branches (all of the worker's jobs, or the given ones) so
  -- that each has one index-friendly plan: jobs_locked_at_idx is not
  -- needed, the primary key or a scan of the worker's few locked rows is.
  IF refresh_job_locks.job_ids IS NULL THEN
    WITH mine AS MATERIALIZED (
      SELECT j.id FROM app_jobs.jobs AS j
       WHERE j.locked_at IS NOT NULL
         AND j.locked_by = refresh_job_locks.worker_id
       ORDER BY j.id
         FOR UPDATE
    ), u AS (
      UPDATE app_jobs.jobs AS j
         SET locked_at = now(), updated_at = now()
        FROM mine
       WHERE j.id = mine.id
      RETURNING j.id, j.queue_name
    )
    SELECT array_agg(u.id), array_agg(DISTINCT u.queue_name) FILTER (WHERE u.queue_name IS NOT NULL)
      INTO v_ids, v_queues
      FROM u;
  ELSE
    WITH mine AS MATERIALIZED (
      SELECT j.id FROM app_jobs.jobs AS j
       WHERE j.id = ANY (refresh_job_locks.job_ids)
         AND j.locked_at IS NOT NULL
         AND j.locked_by = refresh_job_locks.worker_id
       ORDER BY j.id
         FOR UPDATE
    ), u AS (
      UPDATE app_jobs.jobs AS j
         SET locked_at = now(), updated_at = now()
        FROM mine
       WHERE j.id = mine.id
      RETURNING j.id, j.queue_name
    )
    SELECT array_agg(u.id), array_agg(DISTINCT u.queue_name) FILTER (WHERE u.queue_name IS NOT NULL)
      INTO v_ids, v_queues
      FROM u;
  END IF;

  IF v_ids IS NULL THEN
    RETURN;
  END IF;
  IF v_queues IS NOT NULL THEN
    -- the queue lock was taken with the job: it must not expire before it
    PERFORM 1 FROM app_jobs.job_queues AS q
      WHERE q.queue_name = ANY (v_queues)
        AND q.locked_by = refresh_job_locks.worker_id
      ORDER BY q.queue_name
        FOR UPDATE;
    UPDATE app_jobs.job_queues AS q
       SET locked_at = now()
     WHERE q.queue_name = ANY (v_queues)
       AND q.locked_by = refresh_job_locks.worker_id;
  END IF;
  RETURN QUERY SELECT unnest(v_ids);
END;
$$;

COMMENT ON FUNCTION app_jobs.refresh_job_locks(text, bigint[]) IS
  'Lock holder keeps its running jobs (and their queues) locked: locked_at = now() for the given ids it holds (NULL: all); returns the ids refreshed';

REVOKE EXECUTE ON FUNCTION app_jobs.refresh_job_locks(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.refresh_job_locks(text, bigint[]) TO administrator;

COMMIT;
