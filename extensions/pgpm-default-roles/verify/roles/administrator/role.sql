-- Verify pgpm-default-roles:roles/administrator/role on pg

BEGIN;

SELECT public.verify_role('administrator');
SELECT public.verify_membership('administrator', 'anonymous');
SELECT public.verify_membership('administrator', 'authenticated');

-- Existence alone would accept a role someone created with LOGIN or the
-- wrong row level security bypass, which is exactly what deploy corrects.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
              WHERE rolname = 'administrator'
                AND (rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                     OR rolreplication OR NOT rolbypassrls OR NOT rolinherit)) THEN
    RAISE EXCEPTION 'role administrator has unexpected attributes'
      USING HINT = 'Expected NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS INHERIT; deploy roles/administrator/role again.';
  END IF;
END;
$$;

ROLLBACK;
