-- Revert pgpm-jobs:schemas/app_jobs/triggers/tg_update_job_queue_count/paused_queues from pg

BEGIN;

-- Back to the definition of schemas/app_jobs/triggers/tg_update_job_queue_count (@0.1.0).
CREATE OR REPLACE FUNCTION app_jobs.tg_update_job_queue_count()
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

COMMIT;
