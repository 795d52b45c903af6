-- Verify pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count/at_commit on pg

BEGIN;

SELECT verify_trigger('app_jobs.job_queue_count_at_commit_on_insert');
SELECT verify_trigger('app_jobs.job_queue_count_at_commit_on_delete');
SELECT verify_trigger('app_jobs.job_queue_count_at_commit_on_update');

-- Each is a deferred constraint trigger calling the commit-time function,
-- enabled, with its WHEN clause; and the immediate function only notes.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('job_queue_count_at_commit_on_insert', 'AFTER INSERT ON app_jobs.jobs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((new.queue_name IS NOT NULL))'),
      ('job_queue_count_at_commit_on_delete', 'AFTER DELETE ON app_jobs.jobs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((old.queue_name IS NOT NULL))'),
      ('job_queue_count_at_commit_on_update', 'AFTER UPDATE OF queue_name ON app_jobs.jobs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((old.queue_name IS DISTINCT FROM new.queue_name))')) AS v(name, shape)
  LOOP
    IF NOT EXISTS (
         SELECT 1 FROM pg_trigger tg
          WHERE tg.tgrelid = 'app_jobs.jobs'::regclass
            AND tg.tgname = t.name
            AND tg.tgenabled <> 'D'
            AND tg.tgconstraint <> 0
            AND tg.tgfoid = 'app_jobs.tg_apply_job_queue_count()'::regprocedure
            AND position(t.shape IN regexp_replace(pg_get_triggerdef(tg.oid), ' ON (app_jobs\.)?jobs ', ' ON app_jobs.jobs ')) > 0) THEN
      RAISE EXCEPTION 'trigger % on app_jobs.jobs is missing, disabled or not "%"', t.name, t.shape;
    END IF;
  END LOOP;
  IF position('app_jobs.touched_queues' IN (SELECT prosrc FROM pg_proc WHERE oid = 'app_jobs.tg_update_job_queue_count()'::regprocedure)) = 0 THEN
    RAISE EXCEPTION 'app_jobs.tg_update_job_queue_count() is not the definition of job_queue_count/at_commit';
  END IF;
END;
$$;

ROLLBACK;
