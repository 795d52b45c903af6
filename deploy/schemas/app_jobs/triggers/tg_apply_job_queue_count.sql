-- Deploy pgpm-jobs:schemas/app_jobs/triggers/tg_apply_job_queue_count to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/columns/paused_at

BEGIN;

-- The queue bookkeeping at commit.  Called by the deferred constraint
-- triggers of tables/jobs/triggers/job_queue_count/at_commit, once per
-- queued row written by the transaction, when it commits (or at the end of
-- the statement under SET CONSTRAINTS ... IMMEDIATE).
--
-- Why at commit: a queue's row in job_queues is a hot row.  Updated by each
-- INSERT/DELETE as it happened, its row lock was held from that statement
-- to the commit, so two transactions that enqueued into queues a and b in
-- opposite orders deadlocked (40P01), and a long transaction kept the
-- queue's running job from being completed.  Now the immediate triggers
-- only note which queues a transaction touched (app_jobs.touched_queues, a
-- transaction-local setting), and the first of these calls at commit locks
-- the rows of all of them in one order (byte order of the names), so no two
-- committing transactions can wait for each other in a circle; the rows are
-- held only while the commit runs.
--
-- Each call then applies its own row's change, which it takes from the
-- trigger's OLD/NEW row, never from the setting: a session can write the
-- setting, but can only make the first call lock more existing rows, not
-- change a count or create a queue row (a missing row is created early only
-- for a queue with a runnable job this transaction can see).  A deleted job that was locked releases its queue's lock, if the
-- same worker still holds it (complete_job, complete_claimed_jobs).  A
-- queue's row goes with its last job unless the queue is paused.
CREATE FUNCTION app_jobs.tg_apply_job_queue_count()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_touched text[];
  v_queue text;
  v_count integer;
BEGIN
  v_touched := nullif(current_setting('app_jobs.touched_queues', true), '')::text[];
  IF v_touched IS NOT NULL THEN
    PERFORM set_config('app_jobs.touched_queues', '', true);
    -- one queue cannot wait in a circle: lock only when there are several
    IF cardinality(v_touched) > 1 THEN
      FOR v_queue IN SELECT t.q FROM unnest(v_touched) AS t(q) ORDER BY t.q COLLATE "C" LOOP
        PERFORM 1 FROM app_jobs.job_queues AS q WHERE q.queue_name = v_queue FOR NO KEY UPDATE;
        -- a new queue that this transaction gave a runnable job (the
        -- setting is only a hint: a name without such a job gets no row):
        -- its row, inserted now, is locked by this transaction
        IF NOT FOUND AND (SELECT j.id FROM app_jobs.jobs AS j
                           WHERE j.queue_name = v_queue AND j.locked_at IS NULL
                             AND j.attempts < j.max_attempts
                           ORDER BY j.queue_name LIMIT 1) IS NOT NULL THEN
          INSERT INTO app_jobs.job_queues AS q (queue_name, job_count)
          VALUES (v_queue, 0)
          ON CONFLICT (queue_name) DO NOTHING;
          IF NOT FOUND THEN
            PERFORM 1 FROM app_jobs.job_queues AS q WHERE q.queue_name = v_queue FOR NO KEY UPDATE;
          END IF;
        END IF;
      END LOOP;
    END IF;
  END IF;

  -- this row's change: the new queue gains a job, the old one loses it
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.queue_name IS NOT NULL THEN
    INSERT INTO app_jobs.job_queues AS q (queue_name, job_count)
    VALUES (NEW.queue_name, 1)
    ON CONFLICT (queue_name) DO UPDATE SET job_count = q.job_count + 1;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.queue_name IS NOT NULL THEN
    UPDATE app_jobs.job_queues AS q
       SET job_count = q.job_count - 1,
           locked_at = CASE WHEN TG_OP = 'DELETE' AND q.locked_by = OLD.locked_by THEN NULL ELSE q.locked_at END,
           locked_by = CASE WHEN TG_OP = 'DELETE' AND q.locked_by = OLD.locked_by THEN NULL ELSE q.locked_by END
     WHERE q.queue_name = OLD.queue_name
    RETURNING q.job_count INTO v_count;
    IF v_count <= 0 THEN
      DELETE FROM app_jobs.job_queues AS q
       WHERE q.queue_name = OLD.queue_name AND q.job_count <= 0 AND q.paused_at IS NULL;
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

REVOKE EXECUTE ON FUNCTION app_jobs.tg_apply_job_queue_count() FROM PUBLIC;

COMMIT;
