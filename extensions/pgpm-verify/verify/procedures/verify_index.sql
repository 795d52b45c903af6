-- Verify pgpm-verify:procedures/verify_index on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_index(text,text)'::regprocedure;
SELECT public.verify_index('pg_catalog.pg_class', 'pg_class_oid_index');

ROLLBACK;
