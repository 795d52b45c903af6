-- Verify pgpm-verify:procedures/verify_security on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.verify_security(text)'::regprocedure;

ROLLBACK;
