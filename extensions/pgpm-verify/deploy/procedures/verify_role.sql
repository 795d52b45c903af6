-- Deploy pgpm-verify:procedures/verify_role to pg

BEGIN;

-- Role names are compared literally, like the role arguments of the
-- built-in has_*_privilege functions.
CREATE FUNCTION public.verify_role(_user text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = _user) THEN
    RAISE EXCEPTION 'Nonexistent role --> %', _user
      USING ERRCODE = 'undefined_object',
            HINT = 'Roles are cluster-wide: check that the change creating it was deployed in this cluster.';
  END IF;
  RETURN true;
END;
$$;

COMMIT;
