-- Deploy pgpm-verify:procedures/verify_table to pg

BEGIN;

-- Catalog lookup rather than information_schema, which hides tables the
-- caller has no privilege on.  Views do not count as tables here.
CREATE FUNCTION public.verify_table(_table text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_table);
  kind "char";
BEGIN
  SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid = rel;
  IF kind IS NULL THEN
    RAISE EXCEPTION 'Nonexistent table --> %', _table
      USING ERRCODE = 'undefined_table',
            HINT = 'Check the schema and that the change creating the table was deployed.';
  END IF;
  IF kind NOT IN ('r', 'p', 'f') THEN
    RAISE EXCEPTION 'Nonexistent table --> %', _table
      USING ERRCODE = 'undefined_table',
            HINT = pg_catalog.format('%s exists but is not a table (relkind %s).', rel, kind);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
