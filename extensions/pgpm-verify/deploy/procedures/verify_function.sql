-- Deploy pgpm-verify:procedures/verify_function to pg
-- requires: procedures/list_functions

BEGIN;

-- _name is either a name (any overload satisfies existence) or a full
-- signature such as 'app_jobs.add_job(uuid,text)'.  With _user, every
-- function the name resolves to must be executable by that role: a check
-- that passed while one overload stayed locked would hide a broken grant.
-- Pass a signature to check a single overload.
CREATE FUNCTION public.verify_function(_name text, _user text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  fn regprocedure;
  found boolean := false;
BEGIN
  IF _user IS NOT NULL AND pg_catalog.lower(_user) <> 'public'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = _user) THEN
    RAISE EXCEPTION 'Nonexistent role --> %', _user
      USING ERRCODE = 'undefined_object',
            HINT = 'Check the role name given to verify_function.';
  END IF;

  FOR fn IN SELECT f FROM public.list_functions(_name) AS f LOOP
    found := true;
    -- has_function_privilege knows PUBLIC only in lower case.
    IF _user IS NOT NULL
       AND NOT pg_catalog.has_function_privilege(
             CASE WHEN pg_catalog.lower(_user) = 'public' THEN 'public' ELSE _user END, fn, 'EXECUTE') THEN
      RAISE EXCEPTION 'Nonexistent function grant --> EXECUTE on % to %', fn, _user
        USING ERRCODE = 'undefined_object',
              HINT = pg_catalog.format('Check GRANT EXECUTE ON FUNCTION %s TO %s (directly, via a role, or via PUBLIC).', fn, _user);
    END IF;
  END LOOP;

  IF NOT found THEN
    RAISE EXCEPTION 'Nonexistent function --> %', _name
      USING ERRCODE = 'undefined_function',
            HINT = 'Check the schema, the exact argument types of a signature, and search_path for unqualified names.';
  END IF;
  RETURN true;
END;
$$;

COMMIT;
