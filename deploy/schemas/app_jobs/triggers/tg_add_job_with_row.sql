-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_add_job_with_row to pg
-- requires: schemas/app_jobs/procedures/add_job

BEGIN;

-- Trigger helper: enqueue a job whose payload is the whole row as JSON
-- (NEW for INSERT and UPDATE, OLD for DELETE; columns in table order, each
-- with its JSON type).
--   CREATE TRIGGER t AFTER INSERT ON my_table FOR EACH ROW
--     EXECUTE FUNCTION app_jobs.tg_add_job_with_row('<tenant uuid>', '<task>');
-- Row values are only ever data (to_json of the row; no SQL text is built).
-- SECURITY DEFINER with a pinned search_path: a role that may only write
-- my_table still enqueues.
CREATE FUNCTION app_jobs.tg_add_job_with_row()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_db uuid;
  v_payload json;
BEGIN
  IF TG_LEVEL <> 'ROW' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row: trigger % on %.% must be FOR EACH ROW on INSERT, UPDATE or DELETE',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_NARGS <> 2 THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row: trigger % on %.% needs 2 arguments (database id, task identifier), got %',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_NARGS USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_ARGV[0] !~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row: trigger % on %.%: first argument must be the tenant database id (a uuid), got "%"',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_db := TG_ARGV[0]::uuid;
  IF btrim(TG_ARGV[1]) = '' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row: trigger % on %.%: second argument (task identifier) is empty',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF TG_OP = 'DELETE' THEN
    v_payload := to_json(OLD);
  ELSE
    v_payload := to_json(NEW);
  END IF;

  PERFORM app_jobs.add_job(db_id := v_db, identifier := TG_ARGV[1], payload := v_payload);

  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION app_jobs.tg_add_job_with_row() IS
  'Trigger helper: enqueue task TG_ARGV[1] for tenant TG_ARGV[0] with the whole row as payload';

REVOKE EXECUTE ON FUNCTION app_jobs.tg_add_job_with_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.tg_add_job_with_row() TO administrator;

COMMIT;
