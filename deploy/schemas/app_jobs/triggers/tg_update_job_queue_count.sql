-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_update_job_queue_count to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/table

BEGIN;

-- Keeps app_jobs.job_queues.job_count equal to the number of jobs rows with
-- that queue_name, whoever writes app_jobs.jobs (functions or plain DML).
-- The triggers that call it have WHEN clauses, so a job without a queue_name
-- never runs it.  The counter row is a hot row: enqueuers of the same queue
-- serialise on it until they commit (the documented price of an exact
-- count; queue-less jobs do not pay it).
-- SECURITY DEFINER so that the count stays exact even when a role that may
-- write jobs but not job_queues inserts a queued job.
CREATE FUNCTION app_jobs.tg_update_job_queue_count()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_count integer;
  v_queue text;
  v_delta integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    -- no jobs left, so no queue has jobs (or a running job)
    DELETE FROM app_jobs.job_queues;
    RETURN NULL;
  END IF;

  -- (queue, +1/-1) pairs; an UPDATE that moves a job between queues
  -- touches both rows in name order, so two opposite moves cannot deadlock.
  FOR v_queue, v_delta IN
    SELECT c.q, c.d
      FROM (VALUES (CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW.queue_name END, 1),
                   (CASE WHEN TG_OP IN ('DELETE', 'UPDATE') THEN OLD.queue_name END, -1)) AS c(q, d)
     WHERE c.q IS NOT NULL
     ORDER BY c.q
  LOOP
    IF v_delta > 0 THEN
      INSERT INTO app_jobs.job_queues AS q (queue_name, job_count)
      VALUES (v_queue, 1)
      ON CONFLICT (queue_name) DO UPDATE SET job_count = q.job_count + 1;
    ELSE
      UPDATE app_jobs.job_queues AS q
         SET job_count = q.job_count - 1
       WHERE q.queue_name = v_queue
      RETURNING q.job_count INTO v_count;
      IF v_count <= 0 THEN
        -- the queue's last job is gone: drop the row (and any stale lock)
        DELETE FROM app_jobs.job_queues AS q
         WHERE q.queue_name = v_queue AND q.job_count <= 0;
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

COMMENT ON FUNCTION app_jobs.tg_update_job_queue_count() IS
  'Trigger function: keeps app_jobs.job_queues.job_count exact; fired only for jobs with a queue_name';

-- A trigger function is executed by the trigger machinery, not by callers:
-- nobody needs EXECUTE on it.
REVOKE EXECUTE ON FUNCTION app_jobs.tg_update_job_queue_count() FROM PUBLIC;

COMMIT;
