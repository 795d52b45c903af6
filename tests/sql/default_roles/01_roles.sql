-- pgpm-default-roles tests 01: the three roles as deployed.
-- Covers: anonymous, authenticated and administrator exist with exactly
-- the documented attributes (NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
-- NOREPLICATION INHERIT; BYPASSRLS for administrator only) and a comment;
-- administrator is a direct member of the two others and of nothing else,
-- and nobody is a member of administrator; the pgpm-verify checks the
-- verify scripts use agree; what the attributes mean in practice: a login
-- role granted authenticated inherits its privileges, administrator may
-- SET ROLE to the other two, and administrator (only) bypasses row level
-- security.
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify and pgpm-default-roles are deployed
-- (jobsctl deploy --package pgpm-default-roles), while nothing else alters
-- the roles (they are cluster-wide).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- dr01_).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- attributes
CALL pg_temp.eq($$(SELECT string_agg(format('%s:%s%s%s%s%s%s%s', rolname,
                        CASE WHEN rolcanlogin THEN ' LOGIN' ELSE '' END,
                        CASE WHEN rolsuper THEN ' SUPERUSER' ELSE '' END,
                        CASE WHEN rolcreatedb THEN ' CREATEDB' ELSE '' END,
                        CASE WHEN rolcreaterole THEN ' CREATEROLE' ELSE '' END,
                        CASE WHEN rolreplication THEN ' REPLICATION' ELSE '' END,
                        CASE WHEN rolbypassrls THEN ' BYPASSRLS' ELSE '' END,
                        CASE WHEN rolinherit THEN ' INHERIT' ELSE '' END), ', ' ORDER BY rolname)
                       FROM pg_roles WHERE rolname IN ('anonymous', 'authenticated', 'administrator'))$$,
                    'administrator: BYPASSRLS INHERIT, anonymous: INHERIT, authenticated: INHERIT');
CALL pg_temp.eq($$(SELECT count(*) FROM pg_authid
                        WHERE rolname IN ('anonymous', 'authenticated', 'administrator')
                          AND rolpassword IS NULL AND rolvaliduntil IS NULL AND rolconnlimit = -1)$$, '3');
CALL pg_temp.eq($$(SELECT count(*) FROM pg_roles r
                        WHERE rolname IN ('anonymous', 'authenticated', 'administrator')
                          AND shobj_description(r.oid, 'pg_authid') LIKE '%(pgpm-default-roles)')$$, '3');

-- memberships: administrator in the two others, directly; nothing else
CALL pg_temp.eq($$(SELECT string_agg(pg_get_userbyid(m.member) || ' in ' || pg_get_userbyid(m.roleid), ', '
                                         ORDER BY pg_get_userbyid(m.roleid))
                        FROM pg_auth_members m
                       WHERE pg_get_userbyid(m.member) IN ('anonymous', 'authenticated', 'administrator')
                          OR pg_get_userbyid(m.roleid) IN ('anonymous', 'authenticated', 'administrator'))$$,
                    'administrator in anonymous, administrator in authenticated');

-- the checks the verify scripts use
CALL pg_temp.ok($$public.verify_role('anonymous')$$);
CALL pg_temp.ok($$public.verify_role('authenticated')$$);
CALL pg_temp.ok($$public.verify_role('administrator')$$);
CALL pg_temp.ok($$public.verify_membership('administrator', 'anonymous')$$);
CALL pg_temp.ok($$public.verify_membership('administrator', 'authenticated')$$);
CALL pg_temp.raises($$SELECT public.verify_membership('anonymous', 'administrator')$$, 'Nonexistent membership --> anonymous in administrator');
CALL pg_temp.raises($$SELECT public.verify_membership('authenticated', 'anonymous')$$, 'Nonexistent membership --> authenticated in anonymous');

-- what that means: privileges flow down to members, administrator may act
-- as the two others, and only administrator bypasses row level security.
-- (SET ROLE is checked against the session user, so the sessions below run
-- as login roles: a superuser session could SET ROLE to anybody.)
CREATE ROLE dr01_user LOGIN IN ROLE authenticated;
CREATE ROLE dr01_worker LOGIN IN ROLE administrator;
CREATE TABLE public.dr01_secrets (id int);
INSERT INTO public.dr01_secrets VALUES (1), (2);
ALTER TABLE public.dr01_secrets ENABLE ROW LEVEL SECURITY;   -- no policy: nobody but bypassers sees rows
GRANT SELECT ON public.dr01_secrets TO authenticated, anonymous, administrator;

SET SESSION AUTHORIZATION dr01_user;
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '0');     -- readable (inherited), rows hidden
SET ROLE authenticated;
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '0');
CALL pg_temp.raises($$SELECT set_config('role', 'administrator', true)$$, 'permission denied to set role "administrator"', '42501');
CALL pg_temp.raises($$SELECT set_config('role', 'anonymous', true)$$, 'permission denied to set role "anonymous"', '42501');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION dr01_worker;
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '0');     -- BYPASSRLS is not inherited
SET ROLE administrator;
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '2');
SET ROLE anonymous;
CALL pg_temp.eq($$current_user$$, 'anonymous');
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '0');
SET ROLE authenticated;
CALL pg_temp.eq($$current_user$$, 'authenticated');
CALL pg_temp.eq($$(SELECT count(*) FROM public.dr01_secrets)$$, '0');
RESET SESSION AUTHORIZATION;

ROLLBACK;
