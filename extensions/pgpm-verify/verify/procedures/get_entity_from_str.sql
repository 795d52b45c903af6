-- Verify pgpm-verify:procedures/get_entity_from_str on pg

BEGIN;

-- The cast fails when the function is missing or has another signature.
SELECT 'public.get_entity_from_str(text)'::regprocedure;

ROLLBACK;
