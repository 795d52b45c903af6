-- Verify pgpm-verify:procedures/verify_type on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_type(text)'::regprocedure;
SELECT public.verify_type('pg_catalog.int4');

ROLLBACK;
