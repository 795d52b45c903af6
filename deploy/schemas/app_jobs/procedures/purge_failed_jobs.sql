-- Deploy pgpm-jobs:schemas/app_jobs/procedures/purge_failed_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues

BEGIN;

-- Admin: retention.  Delete permanently failed jobs (unlocked, attempts >=
-- max_attempts) that failed for the last time more than older_than ago
-- (updated_at: fail_job sets it with the last failure, and nothing writes a
-- permanently failed job afterwards but an admin function).  older_than is
-- required and not negative (22023).  Further scope as in
-- retry_failed_jobs (job_ids, task_identifier, queue_name, db_id; NULL =
-- any).  Queue counts stay exact through the count trigger.  Returns the
-- deleted rows, in id order.
CREATE FUNCTION app_jobs.purge_failed_jobs(
  older_than interval,
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
  IF purge_failed_jobs.older_than IS NULL OR purge_failed_jobs.older_than < interval '0' THEN
    RAISE EXCEPTION 'app_jobs.purge_failed_jobs: older_than must be an interval of 0 or more, got %',
      coalesce(purge_failed_jobs.older_than::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH target AS MATERIALIZED (
    SELECT j.id
      FROM app_jobs.jobs AS j
     WHERE j.locked_at IS NULL
       AND j.attempts >= j.max_attempts
       AND j.updated_at < now() - purge_failed_jobs.older_than
       AND (purge_failed_jobs.job_ids IS NULL OR j.id = ANY (purge_failed_jobs.job_ids))
       AND (purge_failed_jobs.task_identifier IS NULL OR j.task_identifier = purge_failed_jobs.task_identifier)
       AND (purge_failed_jobs.queue_name IS NULL OR j.queue_name = purge_failed_jobs.queue_name)
       AND (purge_failed_jobs.db_id IS NULL OR j.database_id = purge_failed_jobs.db_id)
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

COMMENT ON FUNCTION app_jobs.purge_failed_jobs(interval, bigint[], text, text, uuid) IS
  'Admin: delete permanently failed jobs whose last failure is older than older_than (by ids, task, queue, tenant); returns them';

REVOKE EXECUTE ON FUNCTION app_jobs.purge_failed_jobs(interval, bigint[], text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.purge_failed_jobs(interval, bigint[], text, text, uuid) TO administrator;

COMMIT;
