-- Revert pgpm-verify:procedures/verify_type from pg

BEGIN;

DROP FUNCTION public.verify_type(text);

COMMIT;
