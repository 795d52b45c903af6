-- Revert pgpm-verify:procedures/verify_table_grant from pg

BEGIN;

DROP FUNCTION public.verify_table_grant(text, text, text);

COMMIT;
