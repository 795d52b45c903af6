-- Revert pgpm-verify:procedures/get_schema_from_str from pg

BEGIN;

DROP FUNCTION public.get_schema_from_str(text);

COMMIT;
