-- Deploy pgpm-jobs:schemas/app_jobs/procedures/complete_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table
-- requires: schemas/app_jobs/procedures/job_expiry

BEGIN;

-- Admin: delete the given jobs that are unlocked, or whose lock is older
-- than app_jobs.job_expiry() (setting app_jobs.job_expiry, default 4 hours).
-- Running jobs are left alone.  Queue locks held by a removed expired job's
-- worker are released.  Returns the deleted rows.
CREATE FUNCTION app_jobs.complete_jobs(
  job_ids bigint[]
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
     WHERE j.id = ANY (complete_jobs.job_ids)
       AND (j.locked_at IS NULL OR j.locked_at < v_cutoff)
       FOR UPDATE
  ), removed AS (
    DELETE FROM app_jobs.jobs AS j
     USING target AS t
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
  SELECT r.* FROM removed AS r ORDER BY r.id;
END;
$$;

COMMENT ON FUNCTION app_jobs.complete_jobs(bigint[]) IS
  'Admin: delete the given jobs that are unlocked or whose lock expired (app_jobs.job_expiry()); returns them';

REVOKE EXECUTE ON FUNCTION app_jobs.complete_jobs(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.complete_jobs(bigint[]) TO administrator;

COMMIT;
