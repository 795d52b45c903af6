-- Deploy pgpm-verify:procedures/verify_constraint to pg

BEGIN;

-- The table goes through to_regclass (search_path, quoting) but the
-- constraint name is compared literally, as pg_constraint stores it.
CREATE FUNCTION public.verify_constraint(_table text, _name text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_table);
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'Nonexistent constraint --> %', _name
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Table %s does not exist or is not on search_path.', _table);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conrelid = rel AND c.conname = _name) THEN
    RAISE EXCEPTION 'Nonexistent constraint --> %', _name
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Check that the change adding constraint %s to %s was deployed.', _name, rel);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
