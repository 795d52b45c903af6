-- Deploy pgpm-verify:procedures/verify_membership to pg
-- requires: procedures/list_memberships

BEGIN;

-- True when _user is a member of _role, directly or through other roles,
-- since either way _user acts with _role's privileges.
CREATE FUNCTION public.verify_membership(_user text, _role text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = _user) THEN
    RAISE EXCEPTION 'Nonexistent role --> %', _user
      USING ERRCODE = 'undefined_object', HINT = 'The member role does not exist.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = _role) THEN
    RAISE EXCEPTION 'Nonexistent role --> %', _role
      USING ERRCODE = 'undefined_object', HINT = 'The group role does not exist.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.list_memberships(_user) m WHERE m.rolname = _role) THEN
    RAISE EXCEPTION 'Nonexistent membership --> % in %', _user, _role
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Check GRANT %I TO %I.', _role, _user);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
