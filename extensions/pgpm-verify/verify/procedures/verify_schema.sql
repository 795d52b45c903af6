-- Verify pgpm-verify:procedures/verify_schema on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_schema(text)'::regprocedure;
SELECT public.verify_schema('pg_catalog');

ROLLBACK;
