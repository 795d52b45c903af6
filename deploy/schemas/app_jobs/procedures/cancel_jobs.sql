-- Deploy pgpm-jobs:schemas/app_jobs/procedures/cancel_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues

BEGIN;

-- Admin: delete jobs that are not running (locked_at NULL: pending,
-- scheduled, waiting for a retry, paused or permanently failed).  A locked
-- job is never touched, even if its lock is past the expiry: the next claim
-- recovers it first, and then it may be cancelled.  Scope as in
-- retry_failed_jobs (job_ids, task_identifier, queue_name, db_id; AND), but
-- at least one of them must be given (22023 otherwise): cancelling "every
-- job" is one TRUNCATE-sized mistake away.  The count trigger keeps
-- job_queues.job_count exact for every deleted job (a paused queue keeps
-- its row).  Rows are locked in id order and waited for, so a job being
-- claimed at that moment is judged after the claim, and left alone.
-- Returns the deleted rows, in id order.
CREATE FUNCTION app_jobs.cancel_jobs(
  job_ids bigint[] DEFAULT NULL,
  task_identifier text DEFAULT NULL,
  queue_name text DEFAULT NULL,
  db_id uuid DEFAULT NULL
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF cancel_jobs.job_ids IS NULL AND cancel_jobs.task_identifier IS NULL
     AND cancel_jobs.queue_name IS NULL AND cancel_jobs.db_id IS NULL THEN
    RAISE EXCEPTION 'app_jobs.cancel_jobs: give job_ids, task_identifier, queue_name or db_id'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH target AS MATERIALIZED (
    SELECT j.id
      FROM app_jobs.jobs AS j
     WHERE j.locked_at IS NULL
       AND (cancel_jobs.job_ids IS NULL OR j.id = ANY (cancel_jobs.job_ids))
       AND (cancel_jobs.task_identifier IS NULL OR j.task_identifier = cancel_jobs.task_identifier)
       AND (cancel_jobs.queue_name IS NULL OR j.queue_name = cancel_jobs.queue_name)
       AND (cancel_jobs.db_id IS NULL OR j.database_id = cancel_jobs.db_id)
     ORDER BY j.id
       FOR UPDATE
  ), removed AS (
    DELETE FROM app_jobs.jobs AS j
     USING target AS t
     WHERE j.id = t.id
    RETURNING j.*
  )
  SELECT r.* FROM removed AS r ORDER BY r.id;
END;
$$;

COMMENT ON FUNCTION app_jobs.cancel_jobs(bigint[], text, text, uuid) IS
  'Admin: delete jobs that are not running (by ids, task, queue, tenant; at least one); returns them';

REVOKE EXECUTE ON FUNCTION app_jobs.cancel_jobs(bigint[], text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.cancel_jobs(bigint[], text, text, uuid) TO administrator;

COMMIT;
