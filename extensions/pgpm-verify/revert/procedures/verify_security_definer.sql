-- Revert pgpm-verify:procedures/verify_security_definer from pg

BEGIN;

DROP FUNCTION public.verify_security_definer(text);

COMMIT;
