-- Verify pgpm-verify:procedures/verify_table_grant on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_table_grant(text,text,text)'::regprocedure;
SELECT public.verify_table_grant('pg_catalog.pg_class', 'select', 'public');

ROLLBACK;
