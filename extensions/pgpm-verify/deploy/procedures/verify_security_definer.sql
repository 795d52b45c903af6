-- Deploy pgpm-verify:procedures/verify_security_definer to pg
-- requires: procedures/list_functions

BEGIN;

-- A SECURITY DEFINER function without its own search_path can be hijacked
-- by objects the caller plants earlier in the path, so both properties are
-- checked together.  Every overload the name resolves to must comply.
CREATE FUNCTION public.verify_security_definer(_name text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  fn regprocedure;
  found boolean := false;
BEGIN
  FOR fn IN SELECT f FROM public.list_functions(_name) AS f LOOP
    found := true;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid = fn AND p.prosecdef) THEN
      RAISE EXCEPTION 'Nonexistent security definer --> %', fn
        USING ERRCODE = 'undefined_object',
              HINT = 'The function runs with the caller''s privileges; declare it SECURITY DEFINER.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p, pg_catalog.unnest(p.proconfig) AS s(setting)
                    WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
      RAISE EXCEPTION 'Nonexistent pinned search_path --> %', fn
        USING ERRCODE = 'undefined_object',
              HINT = pg_catalog.format('Add SET search_path = ... to %s.', fn);
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
