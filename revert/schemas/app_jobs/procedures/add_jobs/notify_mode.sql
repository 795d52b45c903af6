-- Revert pgpm-jobs:schemas/app_jobs/procedures/add_jobs/notify_mode from pg

BEGIN;

-- Back to the definition of schemas/app_jobs/procedures/add_jobs: pg_notify
-- called directly, any app_jobs.notify value other than 'off' means on.
CREATE OR REPLACE FUNCTION app_jobs.add_jobs(
  specs jsonb
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_allowed constant text[] := ARRAY['db_id', 'identifier', 'payload', 'job_key', 'queue_name',
                                     'run_at', 'max_attempts', 'priority'];
  v_bad record;
  v_spec record;
  v_job app_jobs.jobs;
  v_runnable_tasks text[] := '{}';
BEGIN
  IF add_jobs.specs IS NULL OR jsonb_typeof(add_jobs.specs) = 'null' THEN
    RETURN;
  END IF;
  IF jsonb_typeof(add_jobs.specs) <> 'array' THEN
    RAISE EXCEPTION 'app_jobs.add_jobs: specs must be a JSON array of objects, got %', jsonb_typeof(add_jobs.specs)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- check every spec first: nothing is added when one is wrong
  SELECT e.n, e.s, jsonb_typeof(e.s) AS t,
         (SELECT k FROM jsonb_object_keys(CASE WHEN jsonb_typeof(e.s) = 'object' THEN e.s ELSE '{}' END) AS k
           WHERE k <> ALL (v_allowed) LIMIT 1) AS unknown_key
    INTO v_bad
    FROM jsonb_array_elements(add_jobs.specs) WITH ORDINALITY AS e(s, n)
   WHERE jsonb_typeof(e.s) <> 'object'
      OR e.s->>'db_id' IS NULL
      OR e.s->>'identifier' IS NULL
      OR coalesce((e.s->>'max_attempts')::integer, 25) < 1
      OR EXISTS (SELECT 1 FROM jsonb_object_keys(e.s) AS k WHERE k <> ALL (v_allowed))
   ORDER BY e.n
   LIMIT 1;
  IF FOUND THEN
    IF v_bad.t <> 'object' THEN
      RAISE EXCEPTION 'app_jobs.add_jobs: spec % is a JSON %, expected an object', v_bad.n, v_bad.t
        USING ERRCODE = 'invalid_parameter_value';
    ELSIF v_bad.unknown_key IS NOT NULL THEN
      RAISE EXCEPTION 'app_jobs.add_jobs: spec % has the unknown key "%" (allowed: %)', v_bad.n, v_bad.unknown_key, array_to_string(v_allowed, ', ')
        USING ERRCODE = 'invalid_parameter_value';
    ELSIF v_bad.s->>'db_id' IS NULL THEN
      RAISE EXCEPTION 'app_jobs.add_jobs: spec %: db_id must not be NULL', v_bad.n
        USING ERRCODE = 'null_value_not_allowed';
    ELSIF v_bad.s->>'identifier' IS NULL THEN
      RAISE EXCEPTION 'app_jobs.add_jobs: spec %: identifier (the task) must not be NULL', v_bad.n
        USING ERRCODE = 'null_value_not_allowed';
    ELSE
      RAISE EXCEPTION 'app_jobs.add_jobs: spec %: max_attempts must be at least 1, got %', v_bad.n, v_bad.s->>'max_attempts'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;

  -- keyless specs: one statement
  RETURN QUERY
    WITH ins AS (
      INSERT INTO app_jobs.jobs AS j
             (database_id, queue_name, task_identifier, payload, priority, run_at, max_attempts)
      SELECT (e.s->>'db_id')::uuid,
             e.s->>'queue_name',
             e.s->>'identifier',
             CASE WHEN coalesce(jsonb_typeof(e.s->'payload'), 'null') = 'null' THEN '{}'::json
                  ELSE (e.s->'payload')::json END,
             coalesce((e.s->>'priority')::integer, 0),
             coalesce((e.s->>'run_at')::timestamptz, now()),
             coalesce((e.s->>'max_attempts')::integer, 25)
        FROM jsonb_array_elements(add_jobs.specs) WITH ORDINALITY AS e(s, n)
       WHERE e.s->>'job_key' IS NULL
       ORDER BY e.n
      RETURNING j.*
    )
    SELECT * FROM ins;

  SELECT coalesce(array_agg(DISTINCT e.s->>'identifier'), '{}')
    INTO v_runnable_tasks
    FROM jsonb_array_elements(add_jobs.specs) AS e(s)
   WHERE e.s->>'job_key' IS NULL
     AND coalesce((e.s->>'run_at')::timestamptz, now()) <= now();

  -- keyed specs: add_job's upsert, one by one in array order
  FOR v_spec IN
    SELECT (e.s->>'db_id')::uuid AS db_id,
           e.s->>'identifier' AS identifier,
           CASE WHEN coalesce(jsonb_typeof(e.s->'payload'), 'null') = 'null' THEN '{}'::json
                ELSE (e.s->'payload')::json END AS payload,
           e.s->>'job_key' AS job_key,
           e.s->>'queue_name' AS queue_name,
           coalesce((e.s->>'run_at')::timestamptz, now()) AS run_at,
           coalesce((e.s->>'max_attempts')::integer, 25) AS max_attempts,
           coalesce((e.s->>'priority')::integer, 0) AS priority
      FROM jsonb_array_elements(add_jobs.specs) WITH ORDINALITY AS e(s, n)
     WHERE e.s->>'job_key' IS NOT NULL
     ORDER BY e.n
  LOOP
    v_job := NULL;
    FOR attempt IN 1..10 LOOP
      INSERT INTO app_jobs.jobs AS j
             (database_id, queue_name, task_identifier, payload, priority, run_at, max_attempts, key)
      VALUES (v_spec.db_id, v_spec.queue_name, v_spec.identifier, v_spec.payload, v_spec.priority,
              v_spec.run_at, v_spec.max_attempts, v_spec.job_key)
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
      UPDATE app_jobs.jobs AS j
         SET key = NULL,
             superseded = true,
             updated_at = now()
       WHERE j.database_id = v_spec.db_id
         AND j.key = v_spec.job_key
         AND j.locked_at IS NOT NULL;
    END LOOP;
    IF v_job.id IS NULL THEN
      RAISE EXCEPTION 'app_jobs.add_jobs: job_key % of tenant % kept being claimed concurrently; retry', v_spec.job_key, v_spec.db_id
        USING ERRCODE = 'serialization_failure';
    END IF;
    IF v_job.run_at <= now() AND NOT v_job.task_identifier = ANY (v_runnable_tasks) THEN
      v_runnable_tasks := v_runnable_tasks || v_job.task_identifier;
    END IF;
    RETURN NEXT v_job;
  END LOOP;

  IF cardinality(v_runnable_tasks) > 0
     AND coalesce(pg_catalog.current_setting('app_jobs.notify', true), '') <> 'off' THEN
    PERFORM pg_catalog.pg_notify('jobs:insert',
                                 pg_catalog.json_build_object('task_identifier',
                                   CASE WHEN cardinality(v_runnable_tasks) = 1 THEN v_runnable_tasks[1] END)::text);
  END IF;
  RETURN;
END;
$$;

COMMIT;
