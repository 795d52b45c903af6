-- Verify pgpm-verify:procedures/verify_security_definer on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.verify_security_definer(text)'::regprocedure;

ROLLBACK;
