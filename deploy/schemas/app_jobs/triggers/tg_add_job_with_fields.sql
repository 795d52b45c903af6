-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_add_job_with_fields to pg
-- requires: schemas/app_jobs/procedures/add_job

BEGIN;

-- Trigger helper: enqueue a job whose payload holds the named columns of
-- NEW (INSERT, UPDATE) or OLD (DELETE), in argument order, each with its
-- JSON type; a NULL column becomes JSON null.
--   CREATE TRIGGER t AFTER UPDATE ON my_table FOR EACH ROW
--     EXECUTE FUNCTION app_jobs.tg_add_job_with_fields('<tenant uuid>', '<task>', 'col1', 'col2');
-- Column names are matched exactly as stored (unquoted identifiers are
-- lower case); an unknown one is an error naming it.  Row values are only
-- ever data: the row becomes JSON with to_jsonb and each column is picked
-- with ->; no SQL text is built.
-- SECURITY DEFINER with a pinned search_path: a role that may only write
-- my_table still enqueues.
CREATE FUNCTION app_jobs.tg_add_job_with_fields()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_db uuid;
  v_columns text[];
  v_row jsonb;
  v_missing text[];
  v_payload json;
BEGIN
  IF TG_LEVEL <> 'ROW' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_fields: trigger % on %.% must be FOR EACH ROW on INSERT, UPDATE or DELETE',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_NARGS < 3 THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_fields: trigger % on %.% needs the database id, the task identifier and at least one column name, got % arguments',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_NARGS USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF TG_ARGV[0] !~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_fields: trigger % on %.%: first argument must be the tenant database id (a uuid), got "%"',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_db := TG_ARGV[0]::uuid;
  IF btrim(TG_ARGV[1]) = '' THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_fields: trigger % on %.%: second argument (task identifier) is empty',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_columns := TG_ARGV[2:TG_NARGS - 1];

  IF TG_OP = 'DELETE' THEN
    v_row := to_jsonb(OLD);
  ELSE
    v_row := to_jsonb(NEW);
  END IF;

  SELECT array_agg(c.name ORDER BY c.ord) FILTER (WHERE NOT v_row ? c.name),
         json_object_agg(c.name, v_row -> c.name ORDER BY c.ord)
    INTO v_missing, v_payload
    FROM unnest(v_columns) WITH ORDINALITY AS c(name, ord);
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'app_jobs.tg_add_job_with_fields: trigger % on %.%: table has no column(s) %',
      TG_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, v_missing USING ERRCODE = 'undefined_column';
  END IF;

  PERFORM app_jobs.add_job(db_id := v_db, identifier := TG_ARGV[1], payload := v_payload);

  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION app_jobs.tg_add_job_with_fields() IS
  'Trigger helper: enqueue task TG_ARGV[1] for tenant TG_ARGV[0] with the columns named by the further arguments as payload';

REVOKE EXECUTE ON FUNCTION app_jobs.tg_add_job_with_fields() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.tg_add_job_with_fields() TO administrator;

COMMIT;
