-- Revert pgpm-verify:procedures/list_memberships from pg

BEGIN;

DROP FUNCTION public.list_memberships(text);

COMMIT;
