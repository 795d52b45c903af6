-- Deploy pgpm-jobs:schemas/app_jobs/procedures/get_jobs/paused_queues to pg
-- requires: schemas/app_jobs/procedures/get_jobs/available_queues
-- requires: schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx

BEGIN;

-- get_jobs claims up to batch_size runnable jobs for worker_id in one call,
-- by get_job's rules (run_at reached, attempts left, task in
-- task_identifiers, not locked or locked longer ago than job_expiry, in
-- priority, run_at, id order) and at most one job per named queue, whose
-- queue must be neither locked nor paused (app_jobs.pause_queue; step 2
-- goes through job_queues_claimable_idx, so a paused queue's row is not
-- read).  It locks each job and its queue for the worker, counts the
-- attempts and returns the claimed rows.  It never waits for a row another
-- session holds (SKIP LOCKED) and recovers expired locks on the way.  A
-- pause that commits while a claim chooses its queue is seen: the claim
-- row-locks the queue row and PostgreSQL re-checks the condition on its
-- latest version.  Design: docs/app_jobs.md, "Claim design and indexes"
-- and "Batch API"; what each release changed: docs/app_jobs-changelog.md.
CREATE OR REPLACE FUNCTION app_jobs.get_jobs(
  worker_id text,
  task_identifiers text[] DEFAULT NULL,
  job_expiry interval DEFAULT '4 hours'::interval,
  batch_size integer DEFAULT 10
)
RETURNS SETOF app_jobs.jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_now constant timestamptz := now();
  v_cutoff timestamptz;
  v_row app_jobs.jobs;
  v_expired record;
  v_skip text[] := '{}';
  v_left integer;
  v_n integer;
  v_head_id bigint;
  v_head_priority integer;
  v_head_run_at timestamptz;
  v_head_queue text;
  v_priority integer;
  v_bound_run_at timestamptz;
  v_bound_id bigint;
  v_id bigint;
BEGIN
  IF get_jobs.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;
  IF get_jobs.batch_size IS NULL OR get_jobs.batch_size < 1 THEN
    RAISE EXCEPTION 'app_jobs.get_jobs: batch_size must be at least 1, got %', coalesce(get_jobs.batch_size::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_left := get_jobs.batch_size;
  v_cutoff := v_now - coalesce(get_jobs.job_expiry, app_jobs.job_expiry());

  -- 1. recover expired locks (never waits: SKIP LOCKED)
  FOR v_expired IN
    SELECT j.id, j.queue_name, j.locked_by, j.locked_at, j.superseded
      FROM app_jobs.jobs AS j
     WHERE j.locked_at < v_cutoff
     ORDER BY j.locked_at
     LIMIT 100
       FOR UPDATE SKIP LOCKED
  LOOP
    IF v_expired.superseded THEN
      DELETE FROM app_jobs.jobs AS j WHERE j.id = v_expired.id;
    ELSE
      UPDATE app_jobs.jobs AS j
         SET locked_at = NULL,
             locked_by = NULL,
             last_error = format('lock of worker %s (since %s) expired', v_expired.locked_by, v_expired.locked_at),
             updated_at = v_now
       WHERE j.id = v_expired.id;
    END IF;
    IF v_expired.queue_name IS NOT NULL THEN
      UPDATE app_jobs.job_queues AS q
         SET locked_at = NULL, locked_by = NULL
       WHERE q.queue_name IN (SELECT q2.queue_name
                                FROM app_jobs.job_queues AS q2
                               WHERE q2.queue_name = v_expired.queue_name
                                 AND q2.locked_by = v_expired.locked_by
                                 FOR UPDATE SKIP LOCKED);
    END IF;
  END LOOP;

  -- 1b. queue locks older than the cutoff without a running job (it was
  --     deleted or moved by hand): release them here, so that step 2 asks
  --     for unlocked queues only and stays on job_queues_claimable_idx (an
  --     OR with the expiry would not).  A queue that still has a locked job
  --     keeps its lock: that job's row was busy for step 1 (SKIP LOCKED),
  --     and releasing its queue would let a second job of the queue run
  --     beside it; a later claim recovers both together.  The NOT EXISTS
  --     reads jobs_locked_at_idx (running jobs only), and only for expired
  --     queue locks, which are rare.
  UPDATE app_jobs.job_queues AS q
     SET locked_at = NULL, locked_by = NULL
   WHERE q.queue_name IN (SELECT q2.queue_name
                            FROM app_jobs.job_queues AS q2
                           WHERE q2.locked_at < v_cutoff
                             AND NOT EXISTS (SELECT 1
                                               FROM app_jobs.jobs AS j
                                              WHERE j.locked_at IS NOT NULL
                                                AND j.queue_name = q2.queue_name)
                           ORDER BY q2.locked_at
                           LIMIT 100
                             FOR UPDATE SKIP LOCKED);

  -- each round either fills the batch, ends (no head), claims a head or
  -- adds a busy head's queue to v_skip, so it terminates
  LOOP
    -- 2. best head among available named queues (unlocked, not paused:
    --    job_queues_claimable_idx); a queue locked by this call
    --    (locked_at = v_now) is not available any more
    v_head_id := NULL;
    SELECT h.id, h.priority, h.run_at, q.queue_name
      INTO v_head_id, v_head_priority, v_head_run_at, v_head_queue
      FROM app_jobs.job_queues AS q
     CROSS JOIN LATERAL (
             SELECT j.id, j.priority, j.run_at
               FROM app_jobs.jobs AS j
              WHERE j.queue_name = q.queue_name
                AND j.locked_at IS NULL
                AND j.attempts < j.max_attempts
                AND j.run_at <= v_now
                AND (get_jobs.task_identifiers IS NULL OR j.task_identifier = ANY (get_jobs.task_identifiers))
              ORDER BY j.priority, j.run_at, j.id
              LIMIT 1) AS h
     WHERE q.locked_at IS NULL
       AND q.paused_at IS NULL
       AND q.queue_name <> ALL (v_skip)
     ORDER BY h.priority, h.run_at, h.id
     LIMIT 1
       FOR UPDATE OF q SKIP LOCKED;

    -- 3. queue-less jobs ordered before that head, level by level, a range at a time
    v_priority := NULL;
    LOOP
      IF v_priority IS NULL THEN
        SELECT j.priority INTO v_priority
          FROM app_jobs.jobs AS j
         WHERE j.queue_name IS NULL AND j.locked_at IS NULL AND j.attempts < j.max_attempts
         ORDER BY j.priority
         LIMIT 1;
      ELSE
        SELECT j.priority INTO v_priority
          FROM app_jobs.jobs AS j
         WHERE j.queue_name IS NULL AND j.locked_at IS NULL AND j.attempts < j.max_attempts
           AND j.priority > v_priority
         ORDER BY j.priority
         LIMIT 1;
      END IF;
      EXIT WHEN v_priority IS NULL OR (v_head_id IS NOT NULL AND v_priority > v_head_priority);

      IF v_head_id IS NOT NULL AND v_priority = v_head_priority THEN
        v_bound_run_at := v_head_run_at;
        v_bound_id := v_head_id;
      ELSE
        v_bound_run_at := 'infinity';
        v_bound_id := 9223372036854775807;
      END IF;

      RETURN QUERY
        WITH cand AS MATERIALIZED (
          SELECT j.id
            FROM app_jobs.jobs AS j
           WHERE j.queue_name IS NULL AND j.locked_at IS NULL AND j.attempts < j.max_attempts
             AND j.priority = v_priority
             AND j.run_at <= v_now
             AND (j.run_at, j.id) < (v_bound_run_at, v_bound_id)
             AND (get_jobs.task_identifiers IS NULL OR j.task_identifier = ANY (get_jobs.task_identifiers))
           ORDER BY j.priority, j.run_at, j.id
           LIMIT v_left
             FOR UPDATE SKIP LOCKED
        )
        UPDATE app_jobs.jobs AS j
           SET attempts = j.attempts + 1,
               locked_by = get_jobs.worker_id,
               locked_at = v_now,
               updated_at = v_now
          FROM cand
         WHERE j.id = cand.id
        RETURNING j.*;
      GET DIAGNOSTICS v_n = ROW_COUNT;
      v_left := v_left - v_n;
      EXIT WHEN v_left <= 0;
      -- fewer than asked at this level (all taken, locked by others or in
      -- the future): the next level
    END LOOP;

    EXIT WHEN v_left <= 0 OR v_head_id IS NULL;

    -- 4. the head: its queue row is ours; take the job row without waiting
    SELECT j.id INTO v_id
      FROM app_jobs.jobs AS j
     WHERE j.id = v_head_id
       AND j.queue_name = v_head_queue
       AND j.locked_at IS NULL
       AND j.attempts < j.max_attempts
       AND j.run_at <= v_now
       FOR UPDATE SKIP LOCKED;
    IF v_id IS NOT NULL THEN
      UPDATE app_jobs.jobs AS j
         SET attempts = j.attempts + 1,
             locked_by = get_jobs.worker_id,
             locked_at = v_now,
             updated_at = v_now
       WHERE j.id = v_id
      RETURNING j.* INTO v_row;
      UPDATE app_jobs.job_queues AS q
         SET locked_by = get_jobs.worker_id,
             locked_at = v_now
       WHERE q.queue_name = v_head_queue;
      RETURN NEXT v_row;
      v_left := v_left - 1;
      EXIT WHEN v_left <= 0;
    END IF;
    -- claimed or busy: never look at this queue again in this call (a
    -- queue claimed here is locked anyway; job_expiry 0 must not reopen it)
    v_skip := v_skip || v_head_queue;
  END LOOP;

  RETURN;
END;
$$;

COMMIT;
