-- Revert pgpm-verify:procedures/verify_view from pg

BEGIN;

DROP FUNCTION public.verify_view(text);

COMMIT;
