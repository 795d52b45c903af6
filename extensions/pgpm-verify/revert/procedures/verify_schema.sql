-- Revert pgpm-verify:procedures/verify_schema from pg

BEGIN;

DROP FUNCTION public.verify_schema(text);

COMMIT;
