-- Deploy pgpm-verify:procedures/list_memberships to pg

BEGIN;

-- Follows memberships transitively, because a role receives the privileges
-- of every role above it in the chain.  The role itself is included, as
-- pg_has_role(..., 'MEMBER') treats a role as a member of itself.  UNION
-- rather than UNION ALL keeps the walk finite whatever the graph looks like.
CREATE FUNCTION public.list_memberships(_user text)
RETURNS TABLE (rolname text)
LANGUAGE sql STABLE
AS $$
  WITH RECURSIVE up(oid) AS (
    SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = _user
    UNION
    SELECT m.roleid FROM up JOIN pg_catalog.pg_auth_members m ON m.member = up.oid
  )
  SELECT r.rolname::text
    FROM up JOIN pg_catalog.pg_roles r ON r.oid = up.oid
   ORDER BY 1;
$$;

COMMIT;
