-- The head of `jobsctl adopt` for @pgpm/database-jobs 0.16.0 (registry
-- package pgpm-database-jobs): what turns that package's app_jobs into the
-- state that jobsctl's pgpm-jobs changes
--   schemas/app_jobs/schema
--   schemas/app_jobs/tables/job_queues/table
--   schemas/app_jobs/tables/jobs/table
--   schemas/app_jobs/tables/scheduled_jobs/table
-- leave behind, without losing a row.  Those four changes are then recorded
-- without running (their CREATE SCHEMA / CREATE TABLE would fail, and would
-- lose the rows), and every other change of pgpm-jobs runs from its own
-- deploy script, in plan order, after this head (CREATE FUNCTION of the
-- functions both packages have is sent as CREATE OR REPLACE).
--
-- Runs inside jobsctl's one transaction, after
--   LOCK TABLE app_jobs.jobs, app_jobs.scheduled_jobs, app_jobs.job_queues
--     IN ACCESS EXCLUSIVE MODE
-- and after the read-only prechecks (the installation is exactly the
-- published one: registry rows and catalog; no row our constraints reject;
-- no user object depends on app_jobs).  Each `-- step:` section is sent as
-- one batch and shown by its title in `jobsctl adopt --dry-run`.  Nothing
-- here reads row data into SQL text: identifiers come from the catalog and
-- are quoted with format('%I').

-- step: revoke the upstream default privileges on functions in app_jobs
-- @pgpm/database-jobs runs ALTER DEFAULT PRIVILEGES ... GRANT EXECUTE ON
-- FUNCTIONS TO administrator for whoever deployed it.  It must go before
-- any function of ours is created, or our functions that nobody may call
-- (tg_update_job_queue_count, tg_check_schedule_info) would get
-- administrator=X, and `jobsctl verify` would not notice.
DO $adopt$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS owner
      FROM pg_catalog.pg_default_acl d
     WHERE d.defaclnamespace = 'app_jobs'::regnamespace
       AND d.defaclobjtype = 'f'
  LOOP
    EXECUTE pg_catalog.format(
      'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA app_jobs REVOKE EXECUTE ON FUNCTIONS FROM administrator',
      r.owner);
  END LOOP;
END
$adopt$;

-- step: drop the upstream triggers
-- Timestamps (ours: set by the functions), queue counters (ours: one
-- trigger function, exact also for TRUNCATE) and insert notifications
-- (ours: sent by add_job for runnable jobs only).
DROP TRIGGER _100_update_jobs_modtime_tg ON app_jobs.jobs;
DROP TRIGGER _500_increase_job_queue_count_on_insert ON app_jobs.jobs;
DROP TRIGGER _500_increase_job_queue_count_on_update ON app_jobs.jobs;
DROP TRIGGER _900_notify_worker ON app_jobs.jobs;
DROP TRIGGER decrease_job_queue_count_on_delete ON app_jobs.jobs;
DROP TRIGGER decrease_job_queue_count_on_update ON app_jobs.jobs;
DROP TRIGGER _900_notify_scheduled_job ON app_jobs.scheduled_jobs;

-- step: drop the upstream-only functions
-- No CASCADE: a user object still using one makes this fail (the
-- prechecks refuse such databases first).  The 14 functions both packages
-- have stay: they are replaced in place by our changes (CREATE OR REPLACE
-- keeps their OIDs, so a worker's call waiting on our table locks completes
-- afterwards with our body instead of failing with "cache lookup failed").
-- trigger_job_with_fields is the function upstream's change
-- triggers/tg_add_job_with_fields creates; ours is named
-- tg_add_job_with_fields and takes other arguments.
DROP FUNCTION app_jobs.do_notify();
DROP FUNCTION app_jobs.json_build_object_apply(text[]);
DROP FUNCTION app_jobs.tg_decrease_job_queue_count();
DROP FUNCTION app_jobs.tg_increase_job_queue_count();
DROP FUNCTION app_jobs.tg_update_timestamps();
DROP FUNCTION app_jobs.trigger_job_with_fields();

-- step: drop the upstream constraints and indexes ours does not have
-- Keys become unique per tenant (our partial indexes come with our index
-- changes); the length checks go (ours have none; dropping a CHECK only
-- accepts more).  scheduled_jobs_locked_by_idx has the name of one of ours
-- with another definition: our change creates it again.
ALTER TABLE app_jobs.jobs
  DROP CONSTRAINT jobs_key_key,
  DROP CONSTRAINT jobs_key_check,
  DROP CONSTRAINT jobs_locked_by_check,
  DROP CONSTRAINT jobs_queue_name_check,
  DROP CONSTRAINT jobs_task_identifier_check;
ALTER TABLE app_jobs.scheduled_jobs
  DROP CONSTRAINT scheduled_jobs_key_key,
  DROP CONSTRAINT scheduled_jobs_key_check,
  DROP CONSTRAINT scheduled_jobs_locked_by_check,
  DROP CONSTRAINT scheduled_jobs_queue_name_check,
  DROP CONSTRAINT scheduled_jobs_task_identifier_check;
DROP INDEX app_jobs.priority_run_at_id_idx;
DROP INDEX app_jobs.jobs_locked_by_idx;
DROP INDEX app_jobs.scheduled_jobs_priority_id_idx;
DROP INDEX app_jobs.scheduled_jobs_locked_by_idx;
DROP INDEX app_jobs.job_queues_locked_by_idx;

-- step: schema (in place of change schemas/app_jobs/schema)
-- The schema exists; what our change adds is its comment and the grant
-- (already there upstream; granting again changes nothing).
COMMENT ON SCHEMA app_jobs IS 'Background jobs, scheduled jobs and named serial queues (pgpm-jobs)';
GRANT USAGE ON SCHEMA app_jobs TO administrator;

-- step: ids become identity columns, continuing where the sequences were
-- Upstream ids are bigserial; ours are GENERATED BY DEFAULT AS IDENTITY
-- (our verify checks it).  Ids are never reused: the new sequence continues
-- after both the old sequence's last value and the largest id, so workers'
-- job ids and last_scheduled_id stay meaningful.  setval, not START WITH:
-- the sequence then reads as our change creates it.
DO $adopt$
DECLARE
  v_next bigint;
BEGIN
  SELECT greatest(
           coalesce((SELECT pg_catalog.max(id) FROM app_jobs.jobs), 0),
           (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM app_jobs.jobs_id_seq)) + 1
    INTO v_next;
  ALTER TABLE app_jobs.jobs ALTER COLUMN id DROP DEFAULT;
  DROP SEQUENCE app_jobs.jobs_id_seq;
  ALTER TABLE app_jobs.jobs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME app_jobs.jobs_id_seq);
  PERFORM pg_catalog.setval('app_jobs.jobs_id_seq', v_next, false);

  SELECT greatest(
           coalesce((SELECT pg_catalog.max(id) FROM app_jobs.scheduled_jobs), 0),
           (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM app_jobs.scheduled_jobs_id_seq)) + 1
    INTO v_next;
  ALTER TABLE app_jobs.scheduled_jobs ALTER COLUMN id DROP DEFAULT;
  DROP SEQUENCE app_jobs.scheduled_jobs_id_seq;
  ALTER TABLE app_jobs.scheduled_jobs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME app_jobs.scheduled_jobs_id_seq);
  PERFORM pg_catalog.setval('app_jobs.scheduled_jobs_id_seq', v_next, false);
END
$adopt$;

-- step: jobs (in place of change schemas/app_jobs/tables/jobs/table)
-- Upstream's trigger kept created_at/updated_at set, but the columns are
-- nullable: a NULL (only possible with the trigger disabled) becomes now()
-- before SET NOT NULL.  queue_name loses its random-uuid default (ours:
-- NULL = no queue).  superseded is added with a constant default (no table
-- rewrite); every existing row is false, which is how upstream treats it.
-- The CHECKs were verified by the prechecks.  Storage and comments as our
-- change sets them.
UPDATE app_jobs.jobs
   SET created_at = coalesce(created_at, pg_catalog.now()),
       updated_at = coalesce(updated_at, created_at, pg_catalog.now())
 WHERE created_at IS NULL OR updated_at IS NULL;
ALTER TABLE app_jobs.jobs
  ALTER COLUMN queue_name DROP DEFAULT,
  ALTER COLUMN created_at SET NOT NULL,
  ALTER COLUMN updated_at SET NOT NULL,
  ADD COLUMN superseded boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT jobs_attempts_check CHECK (attempts >= 0),
  ADD CONSTRAINT jobs_lock_check CHECK ((locked_at IS NULL) = (locked_by IS NULL)),
  SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
COMMENT ON TABLE app_jobs.jobs IS
  'Background jobs: pending, running (locked) and permanently failed (attempts >= max_attempts); completed jobs are deleted';
COMMENT ON COLUMN app_jobs.jobs.id IS 'Job id';
COMMENT ON COLUMN app_jobs.jobs.database_id IS 'Tenant';
COMMENT ON COLUMN app_jobs.jobs.queue_name IS 'Named serial queue (at most one running job per queue); NULL = no queue';
COMMENT ON COLUMN app_jobs.jobs.task_identifier IS 'Task name; selects the handler';
COMMENT ON COLUMN app_jobs.jobs.payload IS 'Arguments for the handler';
COMMENT ON COLUMN app_jobs.jobs.priority IS 'Lower runs first';
COMMENT ON COLUMN app_jobs.jobs.run_at IS 'Not claimed before this time';
COMMENT ON COLUMN app_jobs.jobs.attempts IS 'Claims so far (incremented by get_job)';
COMMENT ON COLUMN app_jobs.jobs.max_attempts IS 'At attempts >= max_attempts the job is permanently failed';
COMMENT ON COLUMN app_jobs.jobs.key IS 'Job key, unique per tenant: add_job with the same key replaces a pending job';
COMMENT ON COLUMN app_jobs.jobs.last_error IS 'Error of the last failed attempt';
COMMENT ON COLUMN app_jobs.jobs.locked_at IS 'When the running attempt was claimed';
COMMENT ON COLUMN app_jobs.jobs.locked_by IS 'Worker running the job';
COMMENT ON COLUMN app_jobs.jobs.created_at IS 'When the job was first added';
COMMENT ON COLUMN app_jobs.jobs.updated_at IS 'Last change by an app_jobs function';
COMMENT ON COLUMN app_jobs.jobs.superseded IS
  'A newer job took over this running job''s key: it is not retried, and is deleted when it fails or is released';

-- step: scheduled_jobs (in place of change schemas/app_jobs/tables/scheduled_jobs/table)
-- schedule_info must be a JSON object from now on: the prechecks refused
-- the database if a definition has anything else (listed by id; never
-- dropped or rewritten).  next_run_at and last_slot come with our later
-- changes, which compute next_run_at for every definition.
ALTER TABLE app_jobs.scheduled_jobs
  ALTER COLUMN queue_name DROP DEFAULT,
  ADD CONSTRAINT scheduled_jobs_lock_check CHECK ((locked_at IS NULL) = (locked_by IS NULL)),
  ADD CONSTRAINT scheduled_jobs_schedule_info_check CHECK (json_typeof(schedule_info) = 'object');
COMMENT ON TABLE app_jobs.scheduled_jobs IS
  'Recurring job definitions; each spawns jobs in app_jobs.jobs according to schedule_info';
COMMENT ON COLUMN app_jobs.scheduled_jobs.database_id IS 'Tenant of the definition and of the jobs it spawns';
COMMENT ON COLUMN app_jobs.scheduled_jobs.queue_name IS 'Named queue of the spawned jobs; NULL = none';
COMMENT ON COLUMN app_jobs.scheduled_jobs.task_identifier IS 'Task of the spawned jobs';
COMMENT ON COLUMN app_jobs.scheduled_jobs.payload IS 'Payload of the spawned jobs';
COMMENT ON COLUMN app_jobs.scheduled_jobs.priority IS 'Priority of the spawned jobs; also the order in which schedulers claim definitions';
COMMENT ON COLUMN app_jobs.scheduled_jobs.max_attempts IS 'max_attempts of the spawned jobs';
COMMENT ON COLUMN app_jobs.scheduled_jobs.key IS 'Definition key, unique per tenant; also the job key of the spawned jobs';
COMMENT ON COLUMN app_jobs.scheduled_jobs.locked_at IS 'When a scheduler claimed the definition';
COMMENT ON COLUMN app_jobs.scheduled_jobs.locked_by IS 'Scheduler that claimed the definition';
COMMENT ON COLUMN app_jobs.scheduled_jobs.schedule_info IS 'When to run: rule form {"rule": cron, ...} or recurrence form {"hour": ..., ...}';
COMMENT ON COLUMN app_jobs.scheduled_jobs.last_scheduled IS 'When run_scheduled_job last spawned a job';
COMMENT ON COLUMN app_jobs.scheduled_jobs.last_scheduled_id IS 'Id of the last spawned job';

-- step: job_queues (in place of change schemas/app_jobs/tables/job_queues/table)
-- Same columns; ours adds the lock CHECK (verified by the prechecks).  The
-- counts are recomputed at the end, once our counting triggers exist.
ALTER TABLE app_jobs.job_queues
  ADD CONSTRAINT job_queues_lock_check CHECK ((locked_at IS NULL) = (locked_by IS NULL));
COMMENT ON TABLE app_jobs.job_queues IS
  'Named serial queues: at most one job of a queue runs at a time; the row exists while the queue has jobs';
COMMENT ON COLUMN app_jobs.job_queues.queue_name IS 'Queue name (global across tenants)';
COMMENT ON COLUMN app_jobs.job_queues.job_count IS 'Number of rows in app_jobs.jobs with this queue_name, kept exact by triggers';
COMMENT ON COLUMN app_jobs.job_queues.locked_at IS 'When the running job of this queue was claimed';
COMMENT ON COLUMN app_jobs.job_queues.locked_by IS 'Worker running the job of this queue';
