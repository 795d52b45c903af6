-- Verify pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count on pg

BEGIN;

-- 'schema.trigger' is the form every published pgpm-verify accepts (pgpm
-- may have installed an older one); the table is pinned below.
SELECT verify_trigger('app_jobs.job_queue_count_on_insert');
SELECT verify_trigger('app_jobs.job_queue_count_on_delete');
SELECT verify_trigger('app_jobs.job_queue_count_on_update');
SELECT verify_trigger('app_jobs.job_queue_count_on_truncate');

-- Each must be enabled, call the count function and keep its WHEN clause
-- (without it every job would pay for queue bookkeeping).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('job_queue_count_on_insert', 'AFTER INSERT ON app_jobs.jobs FOR EACH ROW WHEN ((new.queue_name IS NOT NULL))'),
      ('job_queue_count_on_delete', 'AFTER DELETE ON app_jobs.jobs FOR EACH ROW WHEN ((old.queue_name IS NOT NULL))'),
      ('job_queue_count_on_update', 'AFTER UPDATE OF queue_name ON app_jobs.jobs FOR EACH ROW WHEN ((old.queue_name IS DISTINCT FROM new.queue_name))'),
      ('job_queue_count_on_truncate', 'AFTER TRUNCATE ON app_jobs.jobs FOR EACH STATEMENT')) AS v(name, shape)
  LOOP
    IF NOT EXISTS (
         SELECT 1 FROM pg_trigger tg
          WHERE tg.tgrelid = 'app_jobs.jobs'::regclass
            AND tg.tgname = t.name
            AND tg.tgenabled <> 'D'
            AND tg.tgfoid = 'app_jobs.tg_update_job_queue_count()'::regprocedure
            AND position(t.shape IN regexp_replace(pg_get_triggerdef(tg.oid), ' ON (app_jobs\.)?jobs ', ' ON app_jobs.jobs ')) > 0) THEN
      RAISE EXCEPTION 'trigger % on app_jobs.jobs is missing, disabled or not "%"', t.name, t.shape;
    END IF;
  END LOOP;
END;
$$;

ROLLBACK;
