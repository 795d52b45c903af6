-- Revert pgpm-verify:procedures/list_indexes from pg

BEGIN;

DROP FUNCTION public.list_indexes(text, text);

COMMIT;
