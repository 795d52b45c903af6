-- Revert pgpm-verify:procedures/get_entity_from_str from pg

BEGIN;

DROP FUNCTION public.get_entity_from_str(text);

COMMIT;
