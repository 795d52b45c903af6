-- app_jobs tests 08: trigger helpers tg_add_job_with_row_id,
-- tg_add_job_with_row, tg_add_job_with_fields.
-- Covers: payloads keep JSON types, NULL stays null; INSERT and UPDATE use
-- NEW, DELETE uses OLD; custom id column; values that look like SQL stay
-- data (nothing is executed); odd column names; malformed arguments give
-- clear errors; statement-level use refused; a role that may only write
-- the user table still enqueues (SECURITY DEFINER); the enqueue is
-- transactional (rolled back with the write).
--
-- Run by tests/app_jobs.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end, so it leaves nothing behind (roles it creates included).  It empties
-- the app_jobs tables inside that transaction, so run it in a fresh
-- database, or one where nothing else uses app_jobs meanwhile.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ..." (assertions are top-level DO blocks, so a passing run
-- prints nothing).

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

-- start from empty tables (inside this transaction only)
DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

CREATE TABLE pg_temp.things (
  id bigint PRIMARY KEY,
  "Odd Name" text,
  name text,
  amount numeric,
  flag boolean,
  tags text[],
  meta jsonb,
  at timestamptz,
  uid uuid
);
CREATE TRIGGER by_id AFTER INSERT OR UPDATE OR DELETE ON pg_temp.things
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('20000000-0000-0000-0000-000000000001', 'by_id');
CREATE TRIGGER by_uid AFTER INSERT ON pg_temp.things
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('20000000-0000-0000-0000-000000000001', 'by_uid', 'uid');
CREATE TRIGGER whole AFTER INSERT OR UPDATE OR DELETE ON pg_temp.things
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row('20000000-0000-0000-0000-000000000001', 'whole');
CREATE TRIGGER fields AFTER INSERT OR UPDATE OR DELETE ON pg_temp.things
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_fields('20000000-0000-0000-0000-000000000001', 'fields', 'name', 'id', 'Odd Name', 'amount', 'flag', 'tags', 'meta');

-- INSERT
INSERT INTO pg_temp.things VALUES
  (1, 'odd', $v$x'); DELETE FROM app_jobs.jobs; --$v$, 12.50, NULL, '{a,"b c"}', '{"k": [1, null]}', '2026-01-02T03:04:05Z', '30000000-0000-0000-0000-000000000003');
DO $$
DECLARE
  p jsonb;
BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 4::bigint, 'four triggers, four jobs');
  PERFORM pg_temp.ok((SELECT bool_and(database_id = '20000000-0000-0000-0000-000000000001') FROM app_jobs.jobs), 'tenant from the first argument');

  PERFORM pg_temp.eq((SELECT payload::text FROM app_jobs.jobs WHERE task_identifier = 'by_id'), '{"id": 1}', 'row id payload, a JSON number');
  PERFORM pg_temp.eq((SELECT payload::jsonb FROM app_jobs.jobs WHERE task_identifier = 'by_uid'),
                     '{"id": "30000000-0000-0000-0000-000000000003"}'::jsonb, 'custom id column, a JSON string');

  SELECT payload::jsonb INTO p FROM app_jobs.jobs WHERE task_identifier = 'whole';
  PERFORM pg_temp.eq(p, jsonb_build_object('id', 1, 'Odd Name', 'odd', 'name', $v$x'); DELETE FROM app_jobs.jobs; --$v$,
                                           'amount', 12.50, 'flag', NULL, 'tags', jsonb_build_array('a', 'b c'),
                                           'meta', '{"k": [1, null]}'::jsonb, 'at', '2026-01-02T03:04:05+00:00',
                                           'uid', '30000000-0000-0000-0000-000000000003'), 'whole row payload');
  PERFORM pg_temp.eq((SELECT string_agg(k, ',') FROM app_jobs.jobs j, json_object_keys(j.payload) k WHERE task_identifier = 'whole'),
                     'id,Odd Name,name,amount,flag,tags,meta,at,uid', 'whole row keeps column order');

  SELECT payload::jsonb INTO p FROM app_jobs.jobs WHERE task_identifier = 'fields';
  PERFORM pg_temp.eq(p, jsonb_build_object('name', $v$x'); DELETE FROM app_jobs.jobs; --$v$, 'id', 1, 'Odd Name', 'odd',
                                           'amount', 12.50, 'flag', NULL, 'tags', jsonb_build_array('a', 'b c'),
                                           'meta', '{"k": [1, null]}'::jsonb), 'fields payload');
  PERFORM pg_temp.eq(jsonb_typeof(p -> 'amount'), 'number', 'numeric stays a number');
  PERFORM pg_temp.eq(jsonb_typeof(p -> 'flag'), 'null', 'NULL stays JSON null');
  PERFORM pg_temp.eq(jsonb_typeof(p -> 'tags'), 'array', 'array stays an array');
  PERFORM pg_temp.eq(jsonb_typeof(p -> 'meta'), 'object', 'jsonb stays an object');
  PERFORM pg_temp.eq((SELECT string_agg(k, ',') FROM app_jobs.jobs j, json_object_keys(j.payload) k WHERE task_identifier = 'fields'),
                     'name,id,Odd Name,amount,flag,tags,meta', 'fields in argument order');
  -- the SQL-looking value did nothing
  PERFORM pg_temp.ok((SELECT count(*) FROM pg_temp.things) = 1, 'value was not executed');
END;
$$;

-- UPDATE uses NEW, DELETE uses OLD
DELETE FROM app_jobs.jobs;
UPDATE pg_temp.things SET name = 'renamed', flag = true WHERE id = 1;
DO $$
BEGIN
  PERFORM pg_temp.eq((SELECT payload->>'name' FROM app_jobs.jobs WHERE task_identifier = 'fields'), 'renamed', 'UPDATE: NEW values');
  PERFORM pg_temp.eq((SELECT payload->'flag' FROM app_jobs.jobs WHERE task_identifier = 'whole')::text, 'true', 'UPDATE: boolean');
END;
$$;
DELETE FROM app_jobs.jobs;
DELETE FROM pg_temp.things WHERE id = 1;
DO $$
BEGIN
  PERFORM pg_temp.eq((SELECT payload->>'name' FROM app_jobs.jobs WHERE task_identifier = 'fields'), 'renamed', 'DELETE: OLD values');
  PERFORM pg_temp.eq((SELECT payload::text FROM app_jobs.jobs WHERE task_identifier = 'by_id'), '{"id": 1}', 'DELETE: OLD id');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 3::bigint, 'DELETE fired three helpers');
END;
$$;

-- transactional: rolled back with the write
DELETE FROM app_jobs.jobs;
SAVEPOINT before_write;
INSERT INTO pg_temp.things (id, name) VALUES (2, 'rolled back');
ROLLBACK TO SAVEPOINT before_write;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 0::bigint, 'no job without the write');
END $t$;

-- BEFORE triggers get their row back (the write happens)
CREATE TABLE pg_temp.before_things (id int PRIMARY KEY, v text);
CREATE TRIGGER b BEFORE INSERT OR DELETE ON pg_temp.before_things
  FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row('20000000-0000-0000-0000-000000000001', 'before');
INSERT INTO pg_temp.before_things VALUES (1, 'kept');
DELETE FROM pg_temp.before_things;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM pg_temp.before_things), 0::bigint, 'BEFORE DELETE let the delete happen');
END $t$;
DO $t$ BEGIN
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'before'), 2::bigint, 'BEFORE triggers enqueue');
END $t$;

-- a role that may only write the table still enqueues (it has no right on app_jobs at all)
DROP TRIGGER by_uid ON pg_temp.things;
DO $$
DECLARE
  writer constant text := 'app_jobs_test_writer_' || pg_backend_pid();
BEGIN
  EXECUTE format('CREATE ROLE %I NOLOGIN', writer);
  EXECUTE format('CREATE TABLE public.%I (id int PRIMARY KEY, v text)', writer);
  EXECUTE format('CREATE TRIGGER t AFTER INSERT ON public.%I FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_fields(%L, %L, %L)',
                 writer, '20000000-0000-0000-0000-000000000001', 'writer', 'v');
  EXECUTE format('GRANT INSERT ON public.%I TO %I', writer, writer);
  PERFORM pg_temp.ok(NOT has_schema_privilege(writer, 'app_jobs', 'USAGE'), 'writer has no access to app_jobs');
  PERFORM set_config('role', writer, true);
  EXECUTE format('INSERT INTO public.%I VALUES (1, %L)', writer, 'from the writer');
  RESET ROLE;
  PERFORM pg_temp.eq((SELECT payload->>'v' FROM app_jobs.jobs WHERE task_identifier = 'writer'), 'from the writer', 'writer-only role enqueued');
  -- but it cannot attach the helpers to a table of its own (tenant and
  -- task would be its choice): EXECUTE on them is not granted beyond
  -- administrator
  EXECUTE format('GRANT CREATE ON SCHEMA public TO %I', writer);
  EXECUTE format('GRANT USAGE ON SCHEMA app_jobs TO %I', writer);
  PERFORM set_config('role', writer, true);
  EXECUTE format('CREATE TABLE public.%I (id int)', writer || '_own');
  CALL pg_temp.raises(format('CREATE TRIGGER t AFTER INSERT ON public.%I FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row(%L, %L)',
                                writer || '_own', '20000000-0000-0000-0000-000000000001', 'spoof'),
                         'permission denied for function %tg_add_job_with_row');
  RESET ROLE;
END;
$$;

-- malformed arguments
CREATE TABLE pg_temp.bad (id int PRIMARY KEY, v text);
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT * FROM (VALUES
    ($q$app_jobs.tg_add_job_with_row_id('not-a-uuid', 'x')$q$,
     'app_jobs.tg_add_job_with_row_id: trigger t on pg_temp_%.bad: first argument must be the tenant database id (a uuid), got "not-a-uuid"'),
    ($q$app_jobs.tg_add_job_with_row_id('20000000-0000-0000-0000-000000000001')$q$,
     'app_jobs.tg_add_job_with_row_id: trigger t on pg_temp_%.bad needs 2 or 3 arguments (database id, task identifier [, id column]), got 1'),
    ($q$app_jobs.tg_add_job_with_row_id('20000000-0000-0000-0000-000000000001', 'x', 'nope')$q$,
     'app_jobs.tg_add_job_with_row_id: trigger t on pg_temp_%.bad: table has no column "nope"'),
    ($q$app_jobs.tg_add_job_with_row_id('20000000-0000-0000-0000-000000000001', ' ')$q$,
     'app_jobs.tg_add_job_with_row_id: trigger t on pg_temp_%.bad: second argument (task identifier) is empty'),
    ($q$app_jobs.tg_add_job_with_row('20000000-0000-0000-0000-000000000001', 'x', 'extra')$q$,
     'app_jobs.tg_add_job_with_row: trigger t on pg_temp_%.bad needs 2 arguments (database id, task identifier), got 3'),
    ($q$app_jobs.tg_add_job_with_row('', 'x')$q$,
     'app_jobs.tg_add_job_with_row: trigger t on pg_temp_%.bad: first argument must be the tenant database id (a uuid), got ""'),
    ($q$app_jobs.tg_add_job_with_fields('20000000-0000-0000-0000-000000000001', 'x')$q$,
     'app_jobs.tg_add_job_with_fields: trigger t on pg_temp_%.bad needs the database id, the task identifier and at least one column name, got 2 arguments'),
    ($q$app_jobs.tg_add_job_with_fields('20000000-0000-0000-0000-000000000001', 'x', 'v', 'V', 'id; DROP TABLE x')$q$,
     'app_jobs.tg_add_job_with_fields: trigger t on pg_temp_%.bad: table has no column(s) {V,"id; DROP TABLE x"}'),
    ($q$app_jobs.tg_add_job_with_fields('x', 'y', 'v')$q$,
     'app_jobs.tg_add_job_with_fields: trigger t on pg_temp_%.bad: first argument must be the tenant database id (a uuid), got "x"')
  ) AS v(fn, message)
  LOOP
    EXECUTE 'CREATE TRIGGER t AFTER INSERT ON pg_temp.bad FOR EACH ROW EXECUTE FUNCTION ' || c.fn;
    CALL pg_temp.raises($q$INSERT INTO pg_temp.bad VALUES (1, 'v')$q$, c.message);
    DROP TRIGGER t ON pg_temp.bad;
  END LOOP;

  -- statement-level use is refused
  CREATE TRIGGER t AFTER INSERT ON pg_temp.bad FOR EACH STATEMENT
    EXECUTE FUNCTION app_jobs.tg_add_job_with_row('20000000-0000-0000-0000-000000000001', 'x');
  CALL pg_temp.raises($q$INSERT INTO pg_temp.bad VALUES (1, 'v')$q$,
                         'app_jobs.tg_add_job_with_row: trigger t on pg_temp_%.bad must be FOR EACH ROW on INSERT, UPDATE or DELETE');
  DROP TRIGGER t ON pg_temp.bad;
END;
$$;

ROLLBACK;
