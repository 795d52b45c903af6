-- Verify pgpm-verify:procedures/verify_constraint on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on the registry's own primary key proves its body actually runs
-- (the registry exists whenever a verify runs, on every PostgreSQL major;
-- system catalogs have pg_constraint rows only from 14 on). Not a table
-- made here: a published release's IMMUTABLE verify_constraint, run by
-- pgpm inside one EXECUTE, would not see it.
SELECT 'public.verify_constraint(text,text)'::regprocedure;
SELECT public.verify_constraint('pgpm_migrate.changes', 'changes_pkey');

ROLLBACK;
