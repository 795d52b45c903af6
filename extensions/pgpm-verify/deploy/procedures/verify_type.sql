-- Deploy pgpm-verify:procedures/verify_type to pg

BEGIN;

-- Any kind of type counts (base, enum, composite, range, domain); a
-- qualified name is only looked up in that schema.
CREATE FUNCTION public.verify_type(_type text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF pg_catalog.to_regtype(_type) IS NULL THEN
    RAISE EXCEPTION 'Nonexistent type --> %', _type
      USING ERRCODE = 'undefined_object',
            HINT = 'Check the schema and that the change creating the type was deployed.';
  END IF;
  RETURN true;
END;
$$;

COMMIT;
