-- Verify pgpm-verify:procedures/verify_domain on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs.
SELECT 'public.verify_domain(text)'::regprocedure;
SELECT public.verify_domain('information_schema.cardinal_number');

ROLLBACK;
