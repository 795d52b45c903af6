-- Verify pgpm-default-roles:roles/anonymous/role on pg

BEGIN;

SELECT public.verify_role('anonymous');

-- Existence alone would accept a role someone created with LOGIN or the
-- wrong row level security bypass, which is exactly what deploy corrects.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
              WHERE rolname = 'anonymous'
                AND (rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                     OR rolreplication OR rolbypassrls OR NOT rolinherit)) THEN
    RAISE EXCEPTION 'role anonymous has unexpected attributes'
      USING HINT = 'Expected NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT; deploy roles/anonymous/role again.';
  END IF;
END;
$$;

ROLLBACK;
