-- Verify pgpm-verify:procedures/list_functions on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.list_functions(text)'::regprocedure;

ROLLBACK;
