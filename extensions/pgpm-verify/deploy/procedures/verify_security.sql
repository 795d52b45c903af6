-- Deploy pgpm-verify:procedures/verify_security to pg

BEGIN;

-- Same meaning as in @pgpm/verify: the table has row level security
-- enabled.  (For SECURITY DEFINER functions see verify_security_definer.)
CREATE FUNCTION public.verify_security(_table text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_table);
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'Nonexistent row level security --> %', _table
      USING ERRCODE = 'undefined_table',
            HINT = 'The table does not exist or is not on search_path.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = rel AND c.relrowsecurity) THEN
    RAISE EXCEPTION 'Nonexistent row level security --> %', rel
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Check ALTER TABLE %s ENABLE ROW LEVEL SECURITY.', rel);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
