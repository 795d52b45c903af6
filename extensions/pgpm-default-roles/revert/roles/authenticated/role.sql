-- Revert pgpm-default-roles:roles/authenticated/role from pg

BEGIN;

-- The role belongs to the whole cluster, not to this database, and may have
-- existed before this package was deployed.  It is dropped only when
-- nothing anywhere still relies on it: no object, privilege, policy or
-- default privilege in any database (pg_shdepend is cluster-wide), no
-- member role, no membership other than the ones this package grants, and
-- no per-role settings.  Otherwise it is kept, with a NOTICE saying why.
-- The deploying role itself is ignored as a member because PostgreSQL 16+
-- makes a non-superuser creator a member of each role it creates.
DO $$
DECLARE
  role_name  constant text := 'authenticated';
  own_groups constant text[] := ARRAY[]::text[];
  role_oid oid;
  uses text[];
BEGIN
  SELECT r.oid INTO role_oid FROM pg_catalog.pg_roles r WHERE r.rolname = role_name;
  IF role_oid IS NULL THEN
    RETURN;
  END IF;

  SELECT array_agg(u.what ORDER BY u.what) INTO uses
    FROM (
      SELECT format('%s dependent object(s) in %s', count(*),
                    coalesce('database ' || d.datname, 'the cluster (databases, tablespaces)'))
        FROM pg_catalog.pg_shdepend s
        LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
       WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass
         AND s.refobjid = role_oid
       GROUP BY d.datname
      UNION ALL
      SELECT format('member role %s', pg_get_userbyid(m.member))
        FROM pg_catalog.pg_auth_members m
       WHERE m.roleid = role_oid
         AND pg_get_userbyid(m.member) <> current_user
      UNION ALL
      SELECT format('membership in %s', pg_get_userbyid(m.roleid))
        FROM pg_catalog.pg_auth_members m
       WHERE m.member = role_oid
         AND pg_get_userbyid(m.roleid) <> ALL (own_groups)
      UNION ALL
      SELECT 'per-role settings (ALTER ROLE ... SET)'
        FROM pg_catalog.pg_db_role_setting s
       WHERE s.setrole = role_oid
    ) AS u(what);

  IF uses IS NOT NULL THEN
    RAISE NOTICE 'keeping role % because it is still in use: %', role_name, array_to_string(uses, '; ')
      USING HINT = 'Roles are shared by all databases of the cluster; drop it by hand once nothing needs it.';
    RETURN;
  END IF;

  BEGIN
    EXECUTE format('DROP ROLE %I', role_name);
  EXCEPTION
    WHEN dependent_objects_still_exist THEN
      -- Something started using the role after the check above.
      RAISE NOTICE 'keeping role % because it is still in use: %', role_name, SQLERRM;
    WHEN undefined_object THEN
      -- A revert in another database dropped it concurrently.
      NULL;
  END;
END;
$$;

COMMIT;
