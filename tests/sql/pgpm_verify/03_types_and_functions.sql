-- pgpm-verify tests 03: types and functions.
-- Covers: verify_type and verify_domain (any type vs domains only, the
-- named schema only, type syntax such as int and text[]), verify_function
-- (a name matches every overload, a signature matches one and must list
-- every argument type, defaulted ones included; the named schema only;
-- EXECUTE for a role or PUBLIC checked on every match, directly, through
-- membership or through PUBLIC), verify_security_definer (SECURITY DEFINER
-- and a pinned search_path, on every overload), with the documented
-- "Nonexistent <kind> --> <name>" errors and SQLSTATEs.
--
-- Run by tests/packages.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify is deployed (jobsctl deploy --package pgpm-verify).
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind, roles included (their names start with
-- pv03_, so the files of this folder can run at once in one cluster).
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...", and a passing run prints nothing.

BEGIN;

-- fixtures
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE TYPE s2.mood AS ENUM ('ok');
CREATE DOMAIN s2.positive AS int CHECK (VALUE > 0);
CREATE DOMAIN s1.label AS text;
CREATE TYPE s2.label AS (a int);            -- same name as s1.label, not a domain
CREATE TABLE s1.tbl (id int);               -- its row type is a type too
CREATE FUNCTION s1.f(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION s1.f(text) RETURNS int LANGUAGE sql AS 'SELECT 2';
CREATE FUNCTION s1.g(a int, b int DEFAULT 0) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE FUNCTION s2.only_in_s2() RETURNS int LANGUAGE sql AS 'SELECT 3';
CREATE FUNCTION s1.sd() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT 1';
CREATE FUNCTION s1.sd_unpinned() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
CREATE FUNCTION s1.sd_mixed(int) RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT 1';
CREATE FUNCTION s1.sd_mixed(text) RETURNS int LANGUAGE sql SET search_path = pg_catalog AS 'SELECT 1';
CREATE FUNCTION s2.sd() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE ROLE pv03_runner NOLOGIN;
CREATE ROLE pv03_member NOLOGIN IN ROLE pv03_runner;
CREATE ROLE pv03_nobody NOLOGIN;
REVOKE EXECUTE ON FUNCTION s1.f(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION s1.f(int) TO pv03_runner;

-- verify_type: any kind of type
CALL pg_temp.ok($$public.verify_type('s2.mood')$$);
CALL pg_temp.ok($$public.verify_type('s2.positive')$$);
CALL pg_temp.ok($$public.verify_type('s1.tbl')$$);
CALL pg_temp.ok($$public.verify_type('int')$$);
CALL pg_temp.ok($$public.verify_type('text[]')$$);
CALL pg_temp.ok($$public.verify_type('S2.MOOD')$$);
CALL pg_temp.raises($$SELECT public.verify_type('s1.mood')$$, 'Nonexistent type --> s1.mood', '42704');
CALL pg_temp.raises($$SELECT public.verify_type('mood')$$, 'Nonexistent type --> mood', '42704');
CALL pg_temp.raises($$SELECT public.verify_type('"S2".mood')$$, 'Nonexistent type --> "S2".mood', '42704');
CALL pg_temp.raises($$SELECT public.verify_type('nosch.mood')$$, 'Nonexistent type --> nosch.mood');
CALL pg_temp.raises($$SELECT public.verify_type(NULL)$$, 'Nonexistent type --> <NULL>', '42704');

-- verify_domain: domains only
CALL pg_temp.ok($$public.verify_domain('s2.positive')$$);
CALL pg_temp.ok($$public.verify_domain('s1.label')$$);
CALL pg_temp.raises($$SELECT public.verify_domain('s2.label')$$, 'Nonexistent domain --> s2.label', '42704');
CALL pg_temp.raises($$SELECT public.verify_domain('s1.positive')$$, 'Nonexistent domain --> s1.positive', '42704');
CALL pg_temp.raises($$SELECT public.verify_domain('s2.mood')$$, 'Nonexistent domain --> s2.mood', '42704');
CALL pg_temp.raises($$SELECT public.verify_domain('int')$$, 'Nonexistent domain --> int', '42704');
CALL pg_temp.raises($$SELECT public.verify_domain(NULL)$$, 'Nonexistent domain --> <NULL>', '42704');

-- verify_function: names and signatures
CALL pg_temp.ok($$public.verify_function('s1.f')$$);
CALL pg_temp.ok($$public.verify_function('S1.F')$$);
CALL pg_temp.ok($$public.verify_function('s1.f(int)')$$);
CALL pg_temp.ok($$public.verify_function('s1.f(integer)')$$);
CALL pg_temp.ok($$public.verify_function('s1.f( text )')$$);
CALL pg_temp.ok($$public.verify_function('s1.g(int, int)')$$);
CALL pg_temp.ok($$public.verify_function('lower')$$);
CALL pg_temp.ok($$public.verify_function('pg_catalog.lower(text)')$$);
CALL pg_temp.raises($$SELECT public.verify_function('s1.g(int)')$$, 'Nonexistent function --> s1.g(int)', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s1.f(bigint)')$$, 'Nonexistent function --> s1.f(bigint)', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s1.f(nosuchtype)')$$, 'Nonexistent function --> s1.f(nosuchtype)', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s2.f')$$, 'Nonexistent function --> s2.f', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s2.f(int)')$$, 'Nonexistent function --> s2.f(int)', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s1.only_in_s2')$$, 'Nonexistent function --> s1.only_in_s2', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('s1.only_in_s2()')$$, 'Nonexistent function --> s1.only_in_s2()', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('f')$$, 'Nonexistent function --> f', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('nosch.f')$$, 'Nonexistent function --> nosch.f', '42883');
CALL pg_temp.raises($$SELECT public.verify_function('nosch.f(int)')$$, 'Nonexistent function --> nosch.f(int)', '42883');
CALL pg_temp.raises($$SELECT public.verify_function(NULL)$$, 'Nonexistent function --> <NULL>', '42883');

-- verify_function with a role: EXECUTE on every function the name matches
CALL pg_temp.ok($$public.verify_function('s1.f(int)', 'pv03_runner')$$);
CALL pg_temp.ok($$public.verify_function('s1.f(int)', 'pv03_member')$$);     -- through membership
CALL pg_temp.ok($$public.verify_function('s1.f(text)', 'pv03_nobody')$$);    -- through PUBLIC
CALL pg_temp.ok($$public.verify_function('s1.f', 'pv03_runner')$$);          -- int directly, text through PUBLIC
CALL pg_temp.ok($$public.verify_function(_name := 's1.f(text)', _user := 'public')$$);
CALL pg_temp.raises($$SELECT public.verify_function('s1.f(int)', 'pv03_nobody')$$,
                   'Nonexistent function grant --> EXECUTE on s1.f(integer) to pv03_nobody', '42704');
CALL pg_temp.raises($$SELECT public.verify_function('s1.f', 'pv03_nobody')$$,
                   'Nonexistent function grant --> EXECUTE on s1.f(integer) to pv03_nobody', '42704');
CALL pg_temp.raises($$SELECT public.verify_function('s1.f(int)', 'public')$$,
                   'Nonexistent function grant --> EXECUTE on s1.f(integer) to public', '42704');
CALL pg_temp.raises($$SELECT public.verify_function('s1.f', 'pv03_nosuch')$$, 'Nonexistent role --> pv03_nosuch', '42704');
CALL pg_temp.raises($$SELECT public.verify_function('s1.nosuch', 'pv03_runner')$$, 'Nonexistent function --> s1.nosuch', '42883');

-- verify_security_definer: SECURITY DEFINER and a pinned search_path
CALL pg_temp.ok($$public.verify_security_definer('s1.sd')$$);
CALL pg_temp.ok($$public.verify_security_definer('s1.sd()')$$);
CALL pg_temp.ok($$public.verify_security_definer('s1.sd_mixed(int)')$$);
CALL pg_temp.raises($$SELECT public.verify_security_definer('s1.sd_unpinned')$$, 'Nonexistent pinned search_path --> s1.sd_unpinned()', '42704');
CALL pg_temp.raises($$SELECT public.verify_security_definer('s1.sd_mixed')$$, 'Nonexistent security definer --> s1.sd_mixed(text)', '42704');
CALL pg_temp.raises($$SELECT public.verify_security_definer('s2.sd')$$, 'Nonexistent security definer --> s2.sd()', '42704');
CALL pg_temp.raises($$SELECT public.verify_security_definer('s1.f(int)')$$, 'Nonexistent security definer --> s1.f(integer)', '42704');
CALL pg_temp.raises($$SELECT public.verify_security_definer('s1.nope')$$, 'Nonexistent function --> s1.nope', '42883');
CALL pg_temp.raises($$SELECT public.verify_security_definer('s1.only_in_s2')$$, 'Nonexistent function --> s1.only_in_s2', '42883');
CALL pg_temp.raises($$SELECT public.verify_security_definer(NULL)$$, 'Nonexistent function --> <NULL>', '42883');

ROLLBACK;
