-- Revert pgpm-verify:procedures/verify_function from pg

BEGIN;

DROP FUNCTION public.verify_function(text, text);

COMMIT;
