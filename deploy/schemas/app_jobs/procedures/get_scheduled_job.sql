-- Deploy pgpm-jobs:schemas/app_jobs/procedures/get_scheduled_job to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- A scheduler (worker_id) claims the next unclaimed definition, in
-- (priority, id) order, optionally only of the given tasks.  It then owns
-- the definition until release_scheduled_jobs: it evaluates schedule_info
-- and calls run_scheduled_job(id) at each due time.  Concurrent schedulers
-- never claim the same definition (FOR UPDATE SKIP LOCKED).  All-NULL row
-- when there is nothing to claim.  Claims do not expire: a scheduler should
-- call release_scheduled_jobs(its worker_id) when it starts and stops.
CREATE FUNCTION app_jobs.get_scheduled_job(
  worker_id text,
  task_identifiers text[] DEFAULT NULL
)
RETURNS app_jobs.scheduled_jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id bigint;
  v_row app_jobs.scheduled_jobs;
BEGIN
  IF get_scheduled_job.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  SELECT s.id INTO v_id
    FROM app_jobs.scheduled_jobs AS s
   WHERE s.locked_at IS NULL
     AND (get_scheduled_job.task_identifiers IS NULL
          OR s.task_identifier = ANY (get_scheduled_job.task_identifiers))
   ORDER BY s.priority, s.id
   LIMIT 1
     FOR UPDATE SKIP LOCKED;

  IF v_id IS NOT NULL THEN
    UPDATE app_jobs.scheduled_jobs AS s
       SET locked_by = get_scheduled_job.worker_id,
           locked_at = now()
     WHERE s.id = v_id
    RETURNING s.* INTO v_row;
  END IF;
  RETURN v_row;
END;
$$;

COMMENT ON FUNCTION app_jobs.get_scheduled_job(text, text[]) IS
  'Scheduler claims the next unclaimed recurring definition; all-NULL row when there is none';

REVOKE EXECUTE ON FUNCTION app_jobs.get_scheduled_job(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.get_scheduled_job(text, text[]) TO administrator;

COMMIT;
