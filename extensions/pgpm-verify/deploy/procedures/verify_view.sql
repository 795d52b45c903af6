-- Deploy pgpm-verify:procedures/verify_view to pg

BEGIN;

-- Materialized views count: callers query both the same way.
CREATE FUNCTION public.verify_view(_view text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_view);
  kind "char";
BEGIN
  SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid = rel;
  IF kind IS NULL THEN
    RAISE EXCEPTION 'Nonexistent view --> %', _view
      USING ERRCODE = 'undefined_table',
            HINT = 'Check the schema and that the change creating the view was deployed.';
  END IF;
  IF kind NOT IN ('v', 'm') THEN
    RAISE EXCEPTION 'Nonexistent view --> %', _view
      USING ERRCODE = 'undefined_table',
            HINT = pg_catalog.format('%s exists but is not a view (relkind %s).', rel, kind);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
