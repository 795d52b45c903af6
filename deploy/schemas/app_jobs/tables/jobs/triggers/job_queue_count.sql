-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count

BEGIN;

-- Hot-path hygiene: the WHEN clauses are evaluated inline, so a job
-- without a queue_name never calls the trigger function, and an UPDATE
-- that does not assign queue_name (claims, failures) does not even
-- evaluate them.
CREATE TRIGGER job_queue_count_on_insert
  AFTER INSERT ON app_jobs.jobs
  FOR EACH ROW
  WHEN (NEW.queue_name IS NOT NULL)
  EXECUTE FUNCTION app_jobs.tg_update_job_queue_count();

CREATE TRIGGER job_queue_count_on_delete
  AFTER DELETE ON app_jobs.jobs
  FOR EACH ROW
  WHEN (OLD.queue_name IS NOT NULL)
  EXECUTE FUNCTION app_jobs.tg_update_job_queue_count();

CREATE TRIGGER job_queue_count_on_update
  AFTER UPDATE OF queue_name ON app_jobs.jobs
  FOR EACH ROW
  WHEN (OLD.queue_name IS DISTINCT FROM NEW.queue_name)
  EXECUTE FUNCTION app_jobs.tg_update_job_queue_count();

CREATE TRIGGER job_queue_count_on_truncate
  AFTER TRUNCATE ON app_jobs.jobs
  FOR EACH STATEMENT
  EXECUTE FUNCTION app_jobs.tg_update_job_queue_count();

COMMIT;
