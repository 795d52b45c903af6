-- Verify pgpm-verify:procedures/verify_membership on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_membership(text,text)'::regprocedure;
SELECT public.verify_membership(current_user, current_user);

ROLLBACK;
