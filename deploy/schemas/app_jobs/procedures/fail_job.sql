-- Deploy pgpm-jobs:schemas/app_jobs/procedures/fail_job to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- The worker holding the lock reports a failure.  The job is unlocked,
-- last_error recorded (a NULL message is still a failure and is recorded
-- as 'fail_job: no error message'), and run_at moved to
-- now() + exp(least(attempts, 10)) seconds (e^1 = 2.7 s after the first
-- attempt, at most e^10 = 6.1 h).  Once attempts >= max_attempts the job
-- is permanently failed: it stays in the table, visible with its
-- last_error, but out of the runnable set (and of the claim indexes).
-- A superseded job (a newer job took its key while it ran) is not
-- retried: it is deleted, and returned as it was failed.
-- Not STRICT on purpose: a NULL argument must not turn the call into a
-- silent no-op.  Anyone but the lock holder gets the all-NULL row.
CREATE FUNCTION app_jobs.fail_job(
  worker_id text,
  job_id bigint,
  error_message text
)
RETURNS app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_error constant text := coalesce(fail_job.error_message, 'fail_job: no error message');
  v_row app_jobs.jobs;
BEGIN
  IF fail_job.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  UPDATE app_jobs.jobs AS j
     SET last_error = v_error,
         run_at = now() + exp(least(j.attempts, 10)::double precision) * interval '1 second',
         locked_at = NULL,
         locked_by = NULL,
         updated_at = now()
   WHERE j.id = fail_job.job_id
     AND j.locked_by = fail_job.worker_id
     AND NOT j.superseded
  RETURNING j.* INTO v_row;

  IF v_row.id IS NULL THEN
    DELETE FROM app_jobs.jobs AS j
     WHERE j.id = fail_job.job_id
       AND j.locked_by = fail_job.worker_id
       AND j.superseded
    RETURNING j.* INTO v_row;
    IF v_row.id IS NULL THEN
      RETURN v_row;  -- not this worker's job
    END IF;
    v_row.last_error := v_error;
    v_row.locked_at := NULL;
    v_row.locked_by := NULL;
  END IF;

  IF v_row.queue_name IS NOT NULL THEN
    UPDATE app_jobs.job_queues AS q
       SET locked_at = NULL, locked_by = NULL
     WHERE q.queue_name = v_row.queue_name
       AND q.locked_by = fail_job.worker_id;
  END IF;
  RETURN v_row;
END;
$$;

COMMENT ON FUNCTION app_jobs.fail_job(text, bigint, text) IS
  'Lock holder fails a job: record last_error, unlock job and queue, retry after exp(least(attempts, 10)) seconds; permanently failed at max_attempts';

REVOKE EXECUTE ON FUNCTION app_jobs.fail_job(text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.fail_job(text, bigint, text) TO administrator;

COMMIT;
