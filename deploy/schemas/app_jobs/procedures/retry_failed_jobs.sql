-- Deploy pgpm-jobs:schemas/app_jobs/procedures/retry_failed_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/procedures/notify_jobs_insert

BEGIN;

-- Admin: run permanently failed jobs again.  A permanently failed job
-- (unlocked, attempts >= max_attempts) gets attempts 0 and run_at = the
-- given run_at (default now()); last_error stays, as the record of why it
-- failed, until the next attempt overwrites it.  Scope: the given job_ids,
-- task_identifier, queue_name and tenant (db_id), each NULL = any, all of
-- them together (AND); all NULL = every permanently failed job.  Jobs that
-- are not permanently failed, running jobs above all, are left alone.
--
-- The rows are locked in id order and waited for (FOR UPDATE, not SKIP
-- LOCKED): a job that a claim or failure holds for a moment is judged on
-- its state after that transaction (PostgreSQL re-checks the condition),
-- so a job that has just been claimed is not touched.  Notifies jobs:insert
-- (notify_jobs_insert) when a retried job is runnable now.  Returns the
-- retried rows, in id order.
CREATE FUNCTION app_jobs.retry_failed_jobs(
  job_ids bigint[] DEFAULT NULL,
  task_identifier text DEFAULT NULL,
  queue_name text DEFAULT NULL,
  db_id uuid DEFAULT NULL,
  run_at timestamptz DEFAULT NULL
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_run_at constant timestamptz := coalesce(retry_failed_jobs.run_at, now());
  v_n bigint;
BEGIN
  RETURN QUERY
  WITH target AS MATERIALIZED (
    SELECT j.id
      FROM app_jobs.jobs AS j
     WHERE j.locked_at IS NULL
       AND j.attempts >= j.max_attempts
       AND (retry_failed_jobs.job_ids IS NULL OR j.id = ANY (retry_failed_jobs.job_ids))
       AND (retry_failed_jobs.task_identifier IS NULL OR j.task_identifier = retry_failed_jobs.task_identifier)
       AND (retry_failed_jobs.queue_name IS NULL OR j.queue_name = retry_failed_jobs.queue_name)
       AND (retry_failed_jobs.db_id IS NULL OR j.database_id = retry_failed_jobs.db_id)
     ORDER BY j.id
       FOR UPDATE
  ), retried AS (
    UPDATE app_jobs.jobs AS j
       SET attempts = 0,
           run_at = v_run_at,
           updated_at = now()
      FROM target AS t
     WHERE j.id = t.id
    RETURNING j.*
  )
  SELECT r.* FROM retried AS r ORDER BY r.id;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  IF v_n > 0 AND v_run_at <= now() THEN
    PERFORM app_jobs.notify_jobs_insert(retry_failed_jobs.task_identifier);
  END IF;
END;
$$;

COMMENT ON FUNCTION app_jobs.retry_failed_jobs(bigint[], text, text, uuid, timestamptz) IS
  'Admin: permanently failed jobs (by ids, task, queue, tenant) run again: attempts 0, run_at given or now; returns them';

REVOKE EXECUTE ON FUNCTION app_jobs.retry_failed_jobs(bigint[], text, text, uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.retry_failed_jobs(bigint[], text, text, uuid, timestamptz) TO administrator;

COMMIT;
