-- Verify pgpm-verify:procedures/verify_trigger on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.verify_trigger(text)'::regprocedure;

ROLLBACK;
