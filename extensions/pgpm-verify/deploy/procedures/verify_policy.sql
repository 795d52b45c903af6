-- Deploy pgpm-verify:procedures/verify_policy to pg

BEGIN;

-- Policies are matched by the table's OID (pg_policy.polrelid), never by
-- relfilenode: TRUNCATE, CLUSTER and VACUUM FULL give the table a new file
-- but keep its OID.  A policy on a table without row level security is
-- inert, so that case fails too.
CREATE FUNCTION public.verify_policy(_policy text, _table text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  rel regclass := pg_catalog.to_regclass(_table);
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'Nonexistent policy --> %', _policy
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Table %s does not exist or is not on search_path.', _table);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                  WHERE p.polrelid = rel AND p.polname = _policy) THEN
    RAISE EXCEPTION 'Nonexistent policy --> %', _policy
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Check CREATE POLICY %I ON %s.', _policy, rel);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = rel AND c.relrowsecurity) THEN
    RAISE EXCEPTION 'Nonexistent row level security --> %', rel
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('Policy %s exists but has no effect: ALTER TABLE %s ENABLE ROW LEVEL SECURITY.', _policy, rel);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
