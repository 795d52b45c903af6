-- Verify pgpm-default-roles:roles/authenticated/role on pg

BEGIN;

SELECT public.verify_role('authenticated');

-- Existence alone would accept a role someone created with LOGIN or the
-- wrong row level security bypass, which is exactly what deploy corrects.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
              WHERE rolname = 'authenticated'
                AND (rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                     OR rolreplication OR rolbypassrls OR NOT rolinherit)) THEN
    RAISE EXCEPTION 'role authenticated has unexpected attributes'
      USING HINT = 'Expected NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT; deploy roles/authenticated/role again.';
  END IF;
END;
$$;

ROLLBACK;
