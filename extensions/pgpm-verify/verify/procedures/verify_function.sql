-- Verify pgpm-verify:procedures/verify_function on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_function(text,text)'::regprocedure;
SELECT public.verify_function('pg_catalog.lower(text)', 'public');

ROLLBACK;
