-- Revert pgpm-verify:procedures/verify_membership from pg

BEGIN;

DROP FUNCTION public.verify_membership(text, text);

COMMIT;
