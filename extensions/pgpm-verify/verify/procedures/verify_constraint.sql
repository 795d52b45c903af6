-- Verify pgpm-verify:procedures/verify_constraint on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_constraint(text,text)'::regprocedure;
SELECT public.verify_constraint('pg_catalog.pg_class', 'pg_class_oid_index');

ROLLBACK;
