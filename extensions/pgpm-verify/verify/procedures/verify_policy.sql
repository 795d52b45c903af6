-- Verify pgpm-verify:procedures/verify_policy on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.verify_policy(text,text)'::regprocedure;

ROLLBACK;
