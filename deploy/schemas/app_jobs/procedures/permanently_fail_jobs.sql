-- Deploy pgpm-jobs:schemas/app_jobs/procedures/permanently_fail_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table
-- requires: schemas/app_jobs/procedures/job_expiry

BEGIN;

-- Admin: mark the given unlocked (or expired, see app_jobs.job_expiry())
-- jobs as permanently failed: attempts = max_attempts, last_error =
-- error_message (default 'Manually marked as failed'), unlocked.  They stay
-- visible and are never claimed again (unless rescheduled or re-added with
-- their key).  Returns the changed rows.
CREATE FUNCTION app_jobs.permanently_fail_jobs(
  job_ids bigint[],
  error_message text DEFAULT NULL
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_cutoff constant timestamptz := now() - app_jobs.job_expiry();
BEGIN
  RETURN QUERY
  WITH target AS (
    SELECT j.id, j.queue_name, j.locked_by
      FROM app_jobs.jobs AS j
     WHERE j.id = ANY (permanently_fail_jobs.job_ids)
       AND (j.locked_at IS NULL OR j.locked_at < v_cutoff)
       FOR UPDATE
  ), failed AS (
    UPDATE app_jobs.jobs AS j
       SET last_error = coalesce(permanently_fail_jobs.error_message, 'Manually marked as failed'),
           attempts = j.max_attempts,
           locked_at = NULL,
           locked_by = NULL,
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
  SELECT f.* FROM failed AS f ORDER BY f.id;
END;
$$;

COMMENT ON FUNCTION app_jobs.permanently_fail_jobs(bigint[], text) IS
  'Admin: permanently fail the given jobs that are unlocked or whose lock expired; returns them';

REVOKE EXECUTE ON FUNCTION app_jobs.permanently_fail_jobs(bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.permanently_fail_jobs(bigint[], text) TO administrator;

COMMIT;
