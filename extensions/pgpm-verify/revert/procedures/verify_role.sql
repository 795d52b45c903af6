-- Revert pgpm-verify:procedures/verify_role from pg

BEGIN;

DROP FUNCTION public.verify_role(text);

COMMIT;
