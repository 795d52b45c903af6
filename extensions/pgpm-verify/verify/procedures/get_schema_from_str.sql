-- Verify pgpm-verify:procedures/get_schema_from_str on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.get_schema_from_str(text)'::regprocedure;

ROLLBACK;
