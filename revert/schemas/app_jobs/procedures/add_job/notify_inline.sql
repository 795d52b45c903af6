-- Revert pgpm-jobs:schemas/app_jobs/procedures/add_job/notify_inline from pg

BEGIN;

-- Back to the definition of procedures/add_job/notify_mode (@0.4.0).
CREATE OR REPLACE FUNCTION app_jobs.add_job(
  db_id uuid,
  identifier text,
  payload json DEFAULT '{}'::json,
  job_key text DEFAULT NULL,
  queue_name text DEFAULT NULL,
  run_at timestamptz DEFAULT now(),
  max_attempts integer DEFAULT 25,
  priority integer DEFAULT 0
)
RETURNS app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_payload constant json := coalesce(add_job.payload, '{}'::json);
  v_run_at constant timestamptz := coalesce(add_job.run_at, now());
  v_max_attempts constant integer := coalesce(add_job.max_attempts, 25);
  v_priority constant integer := coalesce(add_job.priority, 0);
  v_job app_jobs.jobs;
BEGIN
  IF add_job.db_id IS NULL THEN
    RAISE EXCEPTION 'app_jobs.add_job: db_id must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF add_job.identifier IS NULL THEN
    RAISE EXCEPTION 'app_jobs.add_job: identifier (the task) must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF v_max_attempts < 1 THEN
    RAISE EXCEPTION 'app_jobs.add_job: max_attempts must be at least 1, got %', v_max_attempts
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF add_job.job_key IS NULL THEN
    INSERT INTO app_jobs.jobs AS j
           (database_id, queue_name, task_identifier, payload, priority, run_at, max_attempts)
    VALUES (add_job.db_id, add_job.queue_name, add_job.identifier, v_payload, v_priority, v_run_at, v_max_attempts)
    RETURNING j.* INTO v_job;
  ELSE
    FOR attempt IN 1..10 LOOP
      INSERT INTO app_jobs.jobs AS j
             (database_id, queue_name, task_identifier, payload, priority, run_at, max_attempts, key)
      VALUES (add_job.db_id, add_job.queue_name, add_job.identifier, v_payload, v_priority, v_run_at, v_max_attempts, add_job.job_key)
      ON CONFLICT (database_id, key) WHERE key IS NOT NULL DO UPDATE
         SET task_identifier = excluded.task_identifier,
             payload = excluded.payload,
             queue_name = excluded.queue_name,
             priority = excluded.priority,
             run_at = excluded.run_at,
             max_attempts = excluded.max_attempts,
             attempts = 0,
             last_error = NULL,
             updated_at = now()
       WHERE j.locked_at IS NULL
      RETURNING j.* INTO v_job;
      EXIT WHEN v_job.id IS NOT NULL;

      -- The key belongs to a running job (we hold its row lock now).  Let
      -- it finish, but take its key and make sure it is not retried.
      UPDATE app_jobs.jobs AS j
         SET key = NULL,
             superseded = true,
             updated_at = now()
       WHERE j.database_id = add_job.db_id
         AND j.key = add_job.job_key
         AND j.locked_at IS NOT NULL;
    END LOOP;
    IF v_job.id IS NULL THEN
      -- Only if other sessions claimed each new job of this key within
      -- the loop ten times in a row: a retryable conflict, not a bug.
      RAISE EXCEPTION 'app_jobs.add_job: job_key % of tenant % kept being claimed concurrently; retry', add_job.job_key, add_job.db_id
        USING ERRCODE = 'serialization_failure';
    END IF;
  END IF;

  IF v_job.run_at <= now()
     AND coalesce(pg_catalog.current_setting('app_jobs.notify', true), '') <> 'off' THEN
    PERFORM app_jobs.notify_jobs_insert(v_job.task_identifier);
  END IF;
  RETURN v_job;
END;
$$;

COMMIT;
