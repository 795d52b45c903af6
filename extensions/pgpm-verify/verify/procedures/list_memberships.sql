-- Verify pgpm-verify:procedures/list_memberships on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.list_memberships(text)'::regprocedure;

ROLLBACK;
