-- Deploy pgpm-verify:procedures/verify_domain to pg

BEGIN;

-- to_regtype resolves exactly like a column definition would: a qualified
-- name only looks in that schema, so a same-named domain elsewhere never
-- satisfies the check.
CREATE FUNCTION public.verify_domain(_type text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  typ regtype := pg_catalog.to_regtype(_type);
BEGIN
  IF typ IS NULL THEN
    RAISE EXCEPTION 'Nonexistent domain --> %', _type
      USING ERRCODE = 'undefined_object',
            HINT = 'Check the schema and that the change creating the domain was deployed.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid = typ AND t.typtype = 'd') THEN
    RAISE EXCEPTION 'Nonexistent domain --> %', _type
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('%s exists but is not a domain.', typ);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
