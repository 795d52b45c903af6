-- Revert pgpm-jobs:schemas/app_jobs/procedures/reschedule_jobs/notify_mode from pg

BEGIN;

-- Back to the definition of schemas/app_jobs/procedures/reschedule_jobs: pg_notify
-- called directly, any app_jobs.notify value other than 'off' means on.
CREATE OR REPLACE FUNCTION app_jobs.reschedule_jobs(
  job_ids bigint[],
  run_at timestamptz DEFAULT NULL,
  priority integer DEFAULT NULL,
  attempts integer DEFAULT NULL,
  max_attempts integer DEFAULT NULL
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_cutoff constant timestamptz := now() - app_jobs.job_expiry();
  v_rows app_jobs.jobs[];
  v_task text;
BEGIN
  WITH target AS (
    SELECT j.id, j.queue_name, j.locked_by
      FROM app_jobs.jobs AS j
     WHERE j.id = ANY (reschedule_jobs.job_ids)
       AND (j.locked_at IS NULL OR j.locked_at < v_cutoff)
       FOR UPDATE
  ), changed AS (
    UPDATE app_jobs.jobs AS j
       SET run_at = coalesce(reschedule_jobs.run_at, j.run_at),
           priority = coalesce(reschedule_jobs.priority, j.priority),
           attempts = coalesce(reschedule_jobs.attempts, j.attempts),
           max_attempts = coalesce(reschedule_jobs.max_attempts, j.max_attempts),
           locked_at = NULL,
           locked_by = NULL,
           superseded = false,
           updated_at = now()
      FROM target AS t
     WHERE j.id = t.id
    RETURNING j.*
  ), unlocked AS (
    UPDATE app_jobs.job_queues AS q
       SET locked_at = NULL, locked_by = NULL
      FROM target AS t
     WHERE t.locked_by IS NOT NULL
       AND q.queue_name = t.queue_name
       AND q.locked_by = t.locked_by
  )
  SELECT coalesce(array_agg(c ORDER BY c.id), '{}') INTO v_rows FROM changed AS c;

  IF coalesce(pg_catalog.current_setting('app_jobs.notify', true), '') <> 'off' THEN
    FOR v_task IN
      SELECT DISTINCT r.task_identifier
        FROM unnest(v_rows) AS r
       WHERE r.run_at <= now() AND r.attempts < r.max_attempts
    LOOP
      PERFORM pg_catalog.pg_notify('jobs:insert',
                                   pg_catalog.json_build_object('task_identifier', v_task)::text);
    END LOOP;
  END IF;

  RETURN QUERY SELECT r.* FROM unnest(v_rows) AS r;
END;
$$;

COMMIT;
