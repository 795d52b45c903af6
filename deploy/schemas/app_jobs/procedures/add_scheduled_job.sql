-- Deploy pgpm-jobs:schemas/app_jobs/procedures/add_scheduled_job to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table
-- requires: schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_database_id_key_idx
-- requires: schemas/app_jobs/procedures/validate_schedule_info

BEGIN;

-- Create a recurring definition; NULL arguments take the defaults, and
-- schedule_info is checked by app_jobs.validate_schedule_info.  With
-- job_key, upsert within the tenant:
--   * an unclaimed definition with that key is updated in place;
--   * a definition claimed by a scheduler is replaced by a new row (new
--     id, unclaimed, last_scheduled/last_scheduled_id carried over so that
--     ALREADY_SCHEDULED still protects its last job).  The old scheduler's
--     next run_scheduled_job(old id) returns the all-NULL row, which tells
--     it to drop the old definition; a scheduler then claims the new one.
-- Race-free like add_job.  NOTIFY 'scheduled_jobs:insert' (payload: the
-- task) so that schedulers can pick the definition up at once.
CREATE FUNCTION app_jobs.add_scheduled_job(
  db_id uuid,
  identifier text,
  payload json DEFAULT '{}'::json,
  schedule_info json DEFAULT '{}'::json,
  job_key text DEFAULT NULL,
  queue_name text DEFAULT NULL,
  max_attempts integer DEFAULT 25,
  priority integer DEFAULT 0
)
RETURNS app_jobs.scheduled_jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_payload constant json := coalesce(add_scheduled_job.payload, '{}'::json);
  v_schedule constant json := app_jobs.validate_schedule_info(coalesce(add_scheduled_job.schedule_info, '{}'::json));
  v_max_attempts constant integer := coalesce(add_scheduled_job.max_attempts, 25);
  v_priority constant integer := coalesce(add_scheduled_job.priority, 0);
  v_last_scheduled timestamptz;
  v_last_scheduled_id bigint;
  v_row app_jobs.scheduled_jobs;
BEGIN
  IF add_scheduled_job.db_id IS NULL THEN
    RAISE EXCEPTION 'app_jobs.add_scheduled_job: db_id must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF add_scheduled_job.identifier IS NULL THEN
    RAISE EXCEPTION 'app_jobs.add_scheduled_job: identifier (the task) must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF v_max_attempts < 1 THEN
    RAISE EXCEPTION 'app_jobs.add_scheduled_job: max_attempts must be at least 1, got %', v_max_attempts
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF add_scheduled_job.job_key IS NULL THEN
    INSERT INTO app_jobs.scheduled_jobs AS s
           (database_id, queue_name, task_identifier, payload, priority, max_attempts, schedule_info)
    VALUES (add_scheduled_job.db_id, add_scheduled_job.queue_name, add_scheduled_job.identifier,
            v_payload, v_priority, v_max_attempts, v_schedule)
    RETURNING s.* INTO v_row;
  ELSE
    FOR attempt IN 1..10 LOOP
      INSERT INTO app_jobs.scheduled_jobs AS s
             (database_id, queue_name, task_identifier, payload, priority, max_attempts, key,
              schedule_info, last_scheduled, last_scheduled_id)
      VALUES (add_scheduled_job.db_id, add_scheduled_job.queue_name, add_scheduled_job.identifier,
              v_payload, v_priority, v_max_attempts, add_scheduled_job.job_key,
              v_schedule, v_last_scheduled, v_last_scheduled_id)
      ON CONFLICT (database_id, key) WHERE key IS NOT NULL DO UPDATE
         SET task_identifier = excluded.task_identifier,
             payload = excluded.payload,
             queue_name = excluded.queue_name,
             priority = excluded.priority,
             max_attempts = excluded.max_attempts,
             schedule_info = excluded.schedule_info
       WHERE s.locked_at IS NULL
      RETURNING s.* INTO v_row;
      EXIT WHEN v_row.id IS NOT NULL;

      -- claimed by a scheduler: replace the row (see above)
      DELETE FROM app_jobs.scheduled_jobs AS s
       WHERE s.database_id = add_scheduled_job.db_id
         AND s.key = add_scheduled_job.job_key
         AND s.locked_at IS NOT NULL
      RETURNING s.last_scheduled, s.last_scheduled_id
           INTO v_last_scheduled, v_last_scheduled_id;
    END LOOP;
    IF v_row.id IS NULL THEN
      RAISE EXCEPTION 'app_jobs.add_scheduled_job: job_key % of tenant % kept being claimed concurrently; retry', add_scheduled_job.job_key, add_scheduled_job.db_id
        USING ERRCODE = 'serialization_failure';
    END IF;
  END IF;

  IF coalesce(pg_catalog.current_setting('app_jobs.notify', true), '') <> 'off' THEN
    PERFORM pg_catalog.pg_notify('scheduled_jobs:insert',
                                 pg_catalog.json_build_object('task_identifier', v_row.task_identifier)::text);
  END IF;
  RETURN v_row;
END;
$$;

COMMENT ON FUNCTION app_jobs.add_scheduled_job(uuid, text, json, json, text, text, integer, integer) IS
  'Create (or with job_key, upsert within the tenant) a recurring job definition';

REVOKE EXECUTE ON FUNCTION app_jobs.add_scheduled_job(uuid, text, json, json, text, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.add_scheduled_job(uuid, text, json, json, text, text, integer, integer) TO administrator;

COMMIT;
