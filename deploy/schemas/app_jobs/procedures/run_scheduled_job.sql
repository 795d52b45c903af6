-- Deploy pgpm-jobs:schemas/app_jobs/procedures/run_scheduled_job to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table
-- requires: schemas/app_jobs/procedures/add_job
-- requires: schemas/app_jobs/procedures/job_expiry

BEGIN;

-- Spawn one job from definition id, to run now, and record it in
-- last_scheduled / last_scheduled_id.  Raises ALREADY_SCHEDULED while the
-- previously spawned job is pending (including waiting for a retry) or
-- running with a lock younger than job_expiry, and while another job
-- carrying the definition's key runs within job_expiry; a permanently
-- failed previous job does not block.  The definition row is locked first,
-- so concurrent calls for one definition spawn one job: the others wait,
-- then see it and raise ALREADY_SCHEDULED.  All-NULL row for an unknown
-- id (a scheduler takes it as "this definition is gone").  A NULL
-- job_expiry means app_jobs.job_expiry().
-- The spawned job carries the definition's key, so it is deduplicated
-- against add_job calls with the same key (keyed upsert, see add_job).
CREATE FUNCTION app_jobs.run_scheduled_job(
  id bigint,
  job_expiry interval DEFAULT '1 hour'::interval
)
RETURNS app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_cutoff constant timestamptz := now() - coalesce(run_scheduled_job.job_expiry, app_jobs.job_expiry());
  v_sched app_jobs.scheduled_jobs;
  v_job app_jobs.jobs;
BEGIN
  SELECT s.* INTO v_sched
    FROM app_jobs.scheduled_jobs AS s
   WHERE s.id = run_scheduled_job.id
     FOR UPDATE;
  IF v_sched.id IS NULL THEN
    RETURN v_job;
  END IF;

  IF v_sched.last_scheduled_id IS NOT NULL AND EXISTS (
       SELECT 1
         FROM app_jobs.jobs AS j
        WHERE j.id = v_sched.last_scheduled_id
          AND ((j.locked_at IS NULL AND j.attempts < j.max_attempts)  -- pending or waiting for a retry
               OR j.locked_at >= v_cutoff))                            -- running, lock not expired
  THEN
    RAISE EXCEPTION 'ALREADY_SCHEDULED';
  END IF;

  IF v_sched.key IS NOT NULL AND EXISTS (
       SELECT 1
         FROM app_jobs.jobs AS j
        WHERE j.database_id = v_sched.database_id
          AND j.key = v_sched.key
          AND j.locked_at >= v_cutoff)
  THEN
    RAISE EXCEPTION 'ALREADY_SCHEDULED';
  END IF;

  v_job := app_jobs.add_job(db_id := v_sched.database_id,
                            identifier := v_sched.task_identifier,
                            payload := v_sched.payload,
                            job_key := v_sched.key,
                            queue_name := v_sched.queue_name,
                            run_at := now(),
                            max_attempts := v_sched.max_attempts,
                            priority := v_sched.priority);

  UPDATE app_jobs.scheduled_jobs AS s
     SET last_scheduled = now(),
         last_scheduled_id = v_job.id
   WHERE s.id = v_sched.id;
  RETURN v_job;
END;
$$;

COMMENT ON FUNCTION app_jobs.run_scheduled_job(bigint, interval) IS
  'Spawn one job from a recurring definition now; ALREADY_SCHEDULED while its previous job is pending or running; all-NULL row for an unknown id';

REVOKE EXECUTE ON FUNCTION app_jobs.run_scheduled_job(bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.run_scheduled_job(bigint, interval) TO administrator;

COMMIT;
