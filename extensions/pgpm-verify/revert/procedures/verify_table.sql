-- Revert pgpm-verify:procedures/verify_table from pg

BEGIN;

DROP FUNCTION public.verify_table(text);

COMMIT;
