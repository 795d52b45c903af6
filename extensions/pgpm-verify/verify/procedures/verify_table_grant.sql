-- Verify pgpm-verify:procedures/verify_table_grant on pg

BEGIN;

-- The cast fails when the function is missing or has another signature;
-- the call on a catalog object proves its body actually runs (upper-case
-- privilege, PUBLIC: the spelling every published release accepts too).
SELECT 'public.verify_table_grant(text,text,text)'::regprocedure;
SELECT public.verify_table_grant('pg_catalog.pg_class', 'SELECT', 'PUBLIC');

ROLLBACK;
