-- Deploy pgpm-default-roles:roles/anonymous/role to pg

BEGIN;

-- Roles are shared by every database of the cluster: another database may
-- have created this one already, possibly with other attributes, or may be
-- creating it at this very moment.  So: create it only when missing, treat
-- losing a creation race as success, then correct whatever is wrong.
DO $$
DECLARE
  role_name  constant text := 'anonymous';
  bypass_rls constant boolean := false;
  fix text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION %s INHERIT',
                     role_name, CASE WHEN bypass_rls THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      -- 42710 when the other creator had committed before our CREATE,
      -- 23505 when we waited on its uncommitted row.  Either way the role
      -- now exists; its attributes are checked below like any other.
      NULL;
    END;
  END IF;

  FOR attempt IN 1..5 LOOP
    BEGIN
      -- Name only the attributes that are wrong: mentioning SUPERUSER,
      -- REPLICATION or BYPASSRLS at all needs superuser, so a re-deploy by
      -- a CREATEROLE deployer over correct roles must not mention them.
      SELECT concat_ws(' ',
               CASE WHEN r.rolcanlogin THEN 'NOLOGIN' END,
               CASE WHEN r.rolsuper THEN 'NOSUPERUSER' END,
               CASE WHEN r.rolcreatedb THEN 'NOCREATEDB' END,
               CASE WHEN r.rolcreaterole THEN 'NOCREATEROLE' END,
               CASE WHEN r.rolreplication THEN 'NOREPLICATION' END,
               CASE WHEN r.rolbypassrls AND NOT bypass_rls THEN 'NOBYPASSRLS' END,
               CASE WHEN bypass_rls AND NOT r.rolbypassrls THEN 'BYPASSRLS' END,
               CASE WHEN NOT r.rolinherit THEN 'INHERIT' END)
        INTO fix
        FROM pg_catalog.pg_roles r
       WHERE r.rolname = role_name;
      IF fix <> '' THEN
        RAISE NOTICE 'role % existed with other attributes; setting %', role_name, fix;
        EXECUTE format('ALTER ROLE %I %s', role_name, fix);
      END IF;

      IF shobj_description((SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = role_name),
                           'pg_authid') IS NULL THEN
        EXECUTE format('COMMENT ON ROLE %I IS %L', role_name, 'Group role for requests without a signed-in user (pgpm-default-roles)');
      END IF;
      EXIT;
    EXCEPTION WHEN internal_error OR unique_violation THEN
      -- "tuple concurrently updated" (XX000) or a duplicate comment row:
      -- a deployment in another database changed the same catalog row
      -- first.  Its work is committed now, so looking again settles it.
      IF attempt = 5 THEN
        RAISE;
      END IF;
      PERFORM pg_sleep(0.05 * attempt);
    END;
  END LOOP;
END;
$$;

COMMIT;
