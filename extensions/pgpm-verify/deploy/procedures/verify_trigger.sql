-- Deploy pgpm-verify:procedures/verify_trigger to pg

BEGIN;

-- Triggers are not schema objects, so the schema in 'schema.trigger' is the
-- schema of the trigger's table; 'schema.table.trigger' pins the table as
-- well.  An unqualified name matches tables in the schemas of search_path.
-- Internal triggers (foreign-key enforcement) are never what a verify
-- script means.
CREATE FUNCTION public.verify_trigger(_trigger text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  parts text[] := pg_catalog.parse_ident(_trigger);
  n int := pg_catalog.cardinality(parts);
BEGIN
  IF n > 3 THEN
    RAISE EXCEPTION 'improper trigger name (too many dotted names): %', _trigger
      USING ERRCODE = 'syntax_error';
  END IF;
  IF n IS NULL OR NOT EXISTS (
       SELECT 1
         FROM pg_catalog.pg_trigger t
         JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
        WHERE NOT t.tgisinternal
          AND t.tgname = parts[n]
          AND CASE n
                WHEN 1 THEN s.nspname = ANY (pg_catalog.current_schemas(true))
                WHEN 2 THEN s.nspname = parts[1]
                ELSE s.nspname = parts[1] AND c.relname = parts[2]
              END) THEN
    RAISE EXCEPTION 'Nonexistent trigger --> %', _trigger
      USING ERRCODE = 'undefined_object',
            HINT = 'Check the trigger name and the schema (and table) of the table it is defined on.';
  END IF;
  RETURN true;
END;
$$;

COMMIT;
