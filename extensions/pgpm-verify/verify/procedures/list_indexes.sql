-- Verify pgpm-verify:procedures/list_indexes on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.list_indexes(text,text)'::regprocedure;

ROLLBACK;
