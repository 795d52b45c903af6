-- Deploy pgpm-verify:procedures/verify_schema to pg

BEGIN;

CREATE FUNCTION public.verify_schema(_schema text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF pg_catalog.to_regnamespace(_schema) IS NULL THEN
    RAISE EXCEPTION 'Nonexistent schema --> %', _schema
      USING ERRCODE = 'invalid_schema_name',
            HINT = 'Check the schema name (unquoted names fold to lower case).';
  END IF;
  RETURN true;
END;
$$;

COMMIT;
