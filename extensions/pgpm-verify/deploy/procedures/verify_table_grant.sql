-- Deploy pgpm-verify:procedures/verify_table_grant to pg

BEGIN;

-- Looks for a table-level grant made to _role itself ('public' meaning
-- PUBLIC), read from the ACL so that it does not depend on what the caller
-- may see in information_schema.  Privileges a role merely inherits, or
-- holds as owner or superuser, do not count: the check exists to prove
-- that a deploy script's GRANT ran.
CREATE FUNCTION public.verify_table_grant(_table text, _privilege text, _role text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_table);
  priv text := pg_catalog.upper(pg_catalog.btrim(_privilege));
  grantee_oid oid;
BEGIN
  IF priv IS NULL OR priv NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER') THEN
    RAISE EXCEPTION 'unrecognized table privilege: %', _privilege
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use one of SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER.';
  END IF;
  IF rel IS NULL THEN
    RAISE EXCEPTION 'Nonexistent table grant --> % on % to %', priv, _table, _role
      USING ERRCODE = 'undefined_table',
            HINT = 'The table does not exist or is not on search_path.';
  END IF;
  IF pg_catalog.lower(_role) = 'public' THEN
    grantee_oid := 0;
  ELSE
    SELECT r.oid INTO grantee_oid FROM pg_catalog.pg_roles r WHERE r.rolname = _role;
    IF grantee_oid IS NULL THEN
      RAISE EXCEPTION 'Nonexistent role --> %', _role
        USING ERRCODE = 'undefined_object', HINT = 'Check the role name.';
    END IF;
  END IF;
  -- A NULL relacl means the built-in default (owner only), which acldefault spells out.
  IF NOT EXISTS (SELECT 1
                   FROM pg_catalog.pg_class c,
                        pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) AS a
                  WHERE c.oid = rel AND a.grantee = grantee_oid AND a.privilege_type = priv) THEN
    RAISE EXCEPTION 'Nonexistent table grant --> % on % to %', priv, rel, _role
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Check GRANT %s ON %s TO %s.', priv, rel, _role);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
