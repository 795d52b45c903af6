-- Verify pgpm-verify:procedures/verify_view on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_view(text)'::regprocedure;
SELECT public.verify_view('pg_catalog.pg_roles');

ROLLBACK;
