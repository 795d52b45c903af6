-- Revert pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count/at_commit from pg

BEGIN;

-- Counting goes back to the immediate triggers in the same transaction
-- that drops the deferred ones.  Counts stay exact: the previous
-- definition counts from the next row on, and no deferred event of another
-- transaction can be pending once DROP TRIGGER holds its lock on the table.
DROP TRIGGER job_queue_count_at_commit_on_update ON app_jobs.jobs;
DROP TRIGGER job_queue_count_at_commit_on_delete ON app_jobs.jobs;
DROP TRIGGER job_queue_count_at_commit_on_insert ON app_jobs.jobs;

-- Back to the definition of triggers/tg_update_job_queue_count/paused_queues (@0.6.0).
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
    -- no jobs left, so no queue has jobs (or a running job); a paused
    -- queue stays paused, empty and unlocked
    DELETE FROM app_jobs.job_queues AS q WHERE q.paused_at IS NULL;
    UPDATE app_jobs.job_queues AS q
       SET job_count = 0, locked_at = NULL, locked_by = NULL;
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
        -- the queue's last job is gone: drop the row (and any stale lock),
        -- unless the queue is paused: its pause must outlive an empty
        -- moment (resume_queue drops the row of an empty queue)
        DELETE FROM app_jobs.job_queues AS q
         WHERE q.queue_name = v_queue AND q.job_count <= 0 AND q.paused_at IS NULL;
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

COMMIT;
