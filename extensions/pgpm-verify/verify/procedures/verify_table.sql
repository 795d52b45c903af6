-- Verify pgpm-verify:procedures/verify_table on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_table(text)'::regprocedure;
SELECT public.verify_table('pg_catalog.pg_class');

ROLLBACK;
