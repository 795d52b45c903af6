-- Deploy pgpm-jobs:schemas/app_jobs/procedures/notify_jobs_insert to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- The one place that sends NOTIFY "jobs:insert" (payload
-- {"task_identifier": <task or null>}), as the setting app_jobs.notify asks:
--   on (default; also true, yes, 1, or unset/empty): every call notifies;
--   off (also false, no, 0): never;
--   coalesce: at most one notifying transaction in flight across the
--     cluster.  The first caller takes a transaction-level advisory lock
--     (key pair 1785684595, 1: "jobs" as an int4) without waiting and
--     notifies; a transaction that finds it taken skips its notification,
--     since listeners are about to wake up anyway.  Why: PostgreSQL holds a
--     cluster-wide lock from the moment a notifying transaction writes its
--     notification until its commit is flushed, so notifying transactions
--     commit one at a time instead of sharing WAL flushes; with many
--     enqueuing sessions, skipping the redundant notifications brings
--     add_job close to a plain INSERT (docs/performance.md).  A job whose
--     notification was skipped is found by the woken workers if it is
--     committed by then, else by the next notification or the next poll.
-- Any other value raises, so that a misspelt setting is not silently "on".
CREATE FUNCTION app_jobs.notify_jobs_insert(task_identifier text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_mode constant text := pg_catalog.lower(pg_catalog.btrim(coalesce(pg_catalog.current_setting('app_jobs.notify', true), '')));
BEGIN
  IF v_mode IN ('off', 'false', 'no', '0') THEN
    RETURN;
  ELSIF v_mode = 'coalesce' THEN
    IF NOT pg_catalog.pg_try_advisory_xact_lock(1785684595, 1) THEN
      RETURN;
    END IF;
  ELSIF v_mode NOT IN ('', 'on', 'true', 'yes', '1') THEN
    RAISE EXCEPTION 'app_jobs.notify must be on, off or coalesce, got %', pg_catalog.current_setting('app_jobs.notify', true)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_catalog.pg_notify('jobs:insert',
                               pg_catalog.json_build_object('task_identifier', notify_jobs_insert.task_identifier)::text);
END;
$$;

COMMENT ON FUNCTION app_jobs.notify_jobs_insert(text) IS
  'Internal: NOTIFY "jobs:insert" for a task as the setting app_jobs.notify asks (on, off, coalesce)';

REVOKE EXECUTE ON FUNCTION app_jobs.notify_jobs_insert(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.notify_jobs_insert(text) TO administrator;

COMMIT;
