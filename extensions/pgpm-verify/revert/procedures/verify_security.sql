-- Revert pgpm-verify:procedures/verify_security from pg

BEGIN;

DROP FUNCTION public.verify_security(text);

COMMIT;
