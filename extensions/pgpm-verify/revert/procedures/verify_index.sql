-- Revert pgpm-verify:procedures/verify_index from pg

BEGIN;

DROP FUNCTION public.verify_index(text, text);

COMMIT;
