-- Deploy pgpm-jobs:schemas/app_jobs/procedures/release_scheduled_jobs to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- A scheduler gives up its definitions: those with the given ids, or all of
-- them when ids is NULL.  Definitions claimed by other schedulers are not
-- touched.
CREATE FUNCTION app_jobs.release_scheduled_jobs(
  worker_id text,
  ids bigint[] DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF release_scheduled_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  UPDATE app_jobs.scheduled_jobs AS s
     SET locked_at = NULL,
         locked_by = NULL
   WHERE s.locked_by = release_scheduled_jobs.worker_id
     AND (release_scheduled_jobs.ids IS NULL OR s.id = ANY (release_scheduled_jobs.ids));
END;
$$;

COMMENT ON FUNCTION app_jobs.release_scheduled_jobs(text, bigint[]) IS
  'Scheduler releases its claimed definitions (all, or the given ids)';

REVOKE EXECUTE ON FUNCTION app_jobs.release_scheduled_jobs(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.release_scheduled_jobs(text, bigint[]) TO administrator;

COMMIT;
