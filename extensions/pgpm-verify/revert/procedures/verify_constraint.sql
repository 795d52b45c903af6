-- Revert pgpm-verify:procedures/verify_constraint from pg

BEGIN;

DROP FUNCTION public.verify_constraint(text, text);

COMMIT;
