-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count/at_commit to pg
-- requires: schemas/app_jobs/tables/jobs/triggers/job_queue_count
-- requires: schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues
-- requires: schemas/app_jobs/triggers/tg_apply_job_queue_count

BEGIN;

-- Queue bookkeeping moves to commit time (why: the header of
-- triggers/tg_apply_job_queue_count).  One change, because the two halves
-- must switch together: the immediate triggers stop counting in the same
-- transaction that creates the deferred triggers that count instead, so no
-- job is counted twice or not at all.
--
-- The immediate row triggers (job_queue_count_on_insert, _on_delete,
-- _on_update) keep their names and WHEN clauses; their function now only
-- adds the row's queue names to app_jobs.touched_queues, which takes no
-- lock.  TRUNCATE is unchanged (PostgreSQL refuses a TRUNCATE while the
-- transaction has deferred events pending on the table, so it never races
-- with them).
CREATE OR REPLACE FUNCTION app_jobs.tg_update_job_queue_count()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_touched text[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    -- no jobs left, so no queue has jobs (or a running job); a paused
    -- queue stays paused, empty and unlocked
    DELETE FROM app_jobs.job_queues AS q WHERE q.paused_at IS NULL;
    UPDATE app_jobs.job_queues AS q
       SET job_count = 0, locked_at = NULL, locked_by = NULL;
    RETURN NULL;
  END IF;

  v_touched := coalesce(nullif(current_setting('app_jobs.touched_queues', true), '')::text[], '{}');
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.queue_name IS NOT NULL
     AND NOT NEW.queue_name = ANY (v_touched) THEN
    v_touched := v_touched || NEW.queue_name;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.queue_name IS NOT NULL
     AND NOT OLD.queue_name = ANY (v_touched) THEN
    v_touched := v_touched || OLD.queue_name;
  END IF;
  PERFORM set_config('app_jobs.touched_queues', v_touched::text, true);
  RETURN NULL;
END;
$$;

-- The counting, deferred to commit, with the same WHEN clauses: a job
-- without a queue pays for neither.
CREATE CONSTRAINT TRIGGER job_queue_count_at_commit_on_insert
  AFTER INSERT ON app_jobs.jobs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (NEW.queue_name IS NOT NULL)
  EXECUTE FUNCTION app_jobs.tg_apply_job_queue_count();

CREATE CONSTRAINT TRIGGER job_queue_count_at_commit_on_delete
  AFTER DELETE ON app_jobs.jobs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (OLD.queue_name IS NOT NULL)
  EXECUTE FUNCTION app_jobs.tg_apply_job_queue_count();

CREATE CONSTRAINT TRIGGER job_queue_count_at_commit_on_update
  AFTER UPDATE OF queue_name ON app_jobs.jobs
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  WHEN (OLD.queue_name IS DISTINCT FROM NEW.queue_name)
  EXECUTE FUNCTION app_jobs.tg_apply_job_queue_count();

COMMIT;
