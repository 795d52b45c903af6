-- Verify pgpm-verify:procedures/verify_constraint on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a constraint of our own proves its body actually runs (a
-- temporary table: the transaction is rolled back, and system catalogs
-- have pg_constraint rows only from PostgreSQL 14 on).
SELECT 'public.verify_constraint(text,text)'::regprocedure;
CREATE TEMPORARY TABLE pgpm_verify_probe (id int CONSTRAINT pgpm_verify_probe_pkey PRIMARY KEY);
SELECT public.verify_constraint('pgpm_verify_probe', 'pgpm_verify_probe_pkey');

ROLLBACK;
