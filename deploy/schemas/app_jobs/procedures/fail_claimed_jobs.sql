-- Deploy pgpm-jobs:schemas/app_jobs/procedures/fail_claimed_jobs to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- fail_job for many jobs with one error message: for each job among
-- job_ids that worker_id holds, last_error is recorded (NULL message:
-- 'fail_claimed_jobs: no error message'), job and queue are unlocked and
-- run_at moves to now() + exp(least(attempts, 10)) seconds; at
-- max_attempts the job is permanently failed; a superseded job is deleted
-- instead (returned as failed).  Ids the worker does not hold are skipped
-- and left unchanged.  Returns the failed rows.  Not the admin function
-- permanently_fail_jobs(job_ids, ...).
CREATE FUNCTION app_jobs.fail_claimed_jobs(
  worker_id text,
  job_ids bigint[],
  error_message text
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_error constant text := coalesce(fail_claimed_jobs.error_message, 'fail_claimed_jobs: no error message');
  v_rows app_jobs.jobs[];
  v_deleted app_jobs.jobs[];
  v_row app_jobs.jobs;
BEGIN
  IF fail_claimed_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;

  WITH u AS (
    UPDATE app_jobs.jobs AS j
       SET last_error = v_error,
           run_at = now() + exp(least(j.attempts, 10)::double precision) * interval '1 second',
           locked_at = NULL,
           locked_by = NULL,
           updated_at = now()
     WHERE j.id = ANY (fail_claimed_jobs.job_ids)
       AND j.locked_by = fail_claimed_jobs.worker_id
       AND NOT j.superseded
    RETURNING j.*
  )
  SELECT array_agg(u) INTO v_rows FROM u;

  WITH d AS (
    DELETE FROM app_jobs.jobs AS j
     WHERE j.id = ANY (fail_claimed_jobs.job_ids)
       AND j.locked_by = fail_claimed_jobs.worker_id
       AND j.superseded
    RETURNING j.*
  )
  SELECT array_agg(d) INTO v_deleted FROM d;
  IF v_deleted IS NOT NULL THEN
    FOREACH v_row IN ARRAY v_deleted LOOP
      v_row.last_error := v_error;
      v_row.locked_at := NULL;
      v_row.locked_by := NULL;
      v_rows := coalesce(v_rows, '{}') || v_row;
    END LOOP;
  END IF;

  IF v_rows IS NULL THEN
    RETURN;
  END IF;
  UPDATE app_jobs.job_queues AS q
     SET locked_at = NULL, locked_by = NULL
   WHERE q.queue_name IN (SELECT r.queue_name FROM unnest(v_rows) AS r WHERE r.queue_name IS NOT NULL)
     AND q.locked_by = fail_claimed_jobs.worker_id;
  RETURN QUERY SELECT * FROM unnest(v_rows);
END;
$$;

COMMENT ON FUNCTION app_jobs.fail_claimed_jobs(text, bigint[], text) IS
  'Lock holder fails many jobs with one message: record last_error, unlock jobs and queues, back off; other ids are skipped';

REVOKE EXECUTE ON FUNCTION app_jobs.fail_claimed_jobs(text, bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.fail_claimed_jobs(text, bigint[], text) TO administrator;

COMMIT;
