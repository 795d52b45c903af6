-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_add_job_with_row_id to pg
-- requires: schemas/app_jobs/procedures/add_job

BEGIN;

-- Trigger helper: enqueue a job whose payload is {"id": <value>}, the value
-- of the id column (or of the column named by the third argument) of NEW
-- (INSERT, UPDATE) or OLD (DELETE), with its JSON type (number, string,
-- null, ...).
--   CREATE TRIGGER t AFTER INSERT ON my_table FOR EACH ROW
--     EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('<tenant uuid>', '<task>' [, '<id column>']);
-- Row values are only ever data: the row is turned into JSON with
-- to_jsonb and the column picked with ->; no SQL text is built.
-- SECURITY DEFINER with a pinned search_path: a role that may only write
-- my_table still enqueues.  Creating such a trigger needs EXECUTE on this
-- function, which only administrator has (see docs/app_jobs.md).
CREATE FUNCTION app_jobs.tg_add_job_with_row_id()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_db uuid;
  v_column text := 'id';
  v_row jsonb;
BEGIN
  IF TG_LEVEL <> 'ROW' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row_id: trigger % on %.% must be FOR EACH ROW on INSERT, UPDATE or DELETE',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_NARGS NOT IN (2, 3) THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row_id: trigger % on %.% needs 2 or 3 arguments (database id, task identifier [, id column]), got %',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_NARGS USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_ARGV[0] !~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row_id: trigger % on %.%: first argument must be the tenant database id (a uuid), got "%"',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_db := TG_ARGV[0]::uuid;
  IF btrim(TG_ARGV[1]) = '' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row_id: trigger % on %.%: second argument (task identifier) is empty',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_NARGS = 3 THEN
    v_column := TG_ARGV[2];
  END IF;

  IF TG_OP = 'DELETE' THEN
    v_row := to_jsonb(OLD);
  ELSE
    v_row := to_jsonb(NEW);
  END IF;
  IF NOT v_row ? v_column THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_row_id: trigger % on %.%: table has no column "%"',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, v_column USING ERRCODE = 'undefined_column';
  END IF;

  PERFORM app_jobs.add_job(db_id := v_db,
                           identifier := TG_ARGV[1],
                           payload := jsonb_build_object('id', v_row -> v_column)::json);

  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION app_jobs.tg_add_job_with_row_id() IS
  'Trigger helper: enqueue task TG_ARGV[1] for tenant TG_ARGV[0] with payload {"id": <row id or column TG_ARGV[2]>}';

REVOKE EXECUTE ON FUNCTION app_jobs.tg_add_job_with_row_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.tg_add_job_with_row_id() TO administrator;

COMMIT;
