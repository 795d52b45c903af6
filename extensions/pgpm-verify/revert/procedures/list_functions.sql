-- Revert pgpm-verify:procedures/list_functions from pg

BEGIN;

DROP FUNCTION public.list_functions(text);

COMMIT;
