-- Revert pgpm-verify:procedures/verify_trigger from pg

BEGIN;

DROP FUNCTION public.verify_trigger(text);

COMMIT;
