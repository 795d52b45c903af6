-- Revert pgpm-verify:procedures/verify_policy from pg

BEGIN;

DROP FUNCTION public.verify_policy(text, text);

COMMIT;
