-- Deploy pgpm-jobs:schemas/app_jobs/procedures/get_job/fast_path to pg
-- requires: schemas/app_jobs/procedures/get_job/paused_queues

BEGIN;

-- get_job claims the next runnable job for worker_id: run_at reached,
-- attempts left, task in task_identifiers (NULL: any task), not locked (or
-- locked longer ago than job_expiry, NULL meaning app_jobs.job_expiry()),
-- and, for a job of a named queue, that queue neither locked nor paused
-- (app_jobs.pause_queue), in priority, run_at, id order.  It locks the job
-- and its queue for the worker, counts the attempt and returns the row;
-- one all-NULL row when nothing is runnable.  It never waits for a row
-- another session holds (SKIP LOCKED), recovers expired locks on the way
-- (steps 1 and 1b), and reads a paused queue's row not at all (steps 0 and
-- 2 go through job_queues_claimable_idx).  A pause that commits while a
-- claim chooses its queue is seen: the claim row-locks the queue row and
-- PostgreSQL re-checks the condition on its latest version.  Its
-- statements are planned once (force_generic_plan): the generic plans are
-- the index plans the claim is built for (tests/sql/app_jobs/09_claim_plan.sql).
-- Design and measurements: docs/app_jobs.md, "Claim design and indexes";
-- what each release changed: docs/app_jobs-changelog.md.
CREATE OR REPLACE FUNCTION app_jobs.get_job(
  worker_id text,
  task_identifiers text[] DEFAULT NULL,
  job_expiry interval DEFAULT '4 hours'::interval
)
RETURNS app_jobs.jobs
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
  v_head_id bigint;
  v_head_priority integer;
  v_head_run_at timestamptz;
  v_head_queue text;
  v_priority integer;
  v_bound_run_at timestamptz;
  v_bound_id bigint;
  v_id bigint;
  v_expired_jobs boolean;
  v_expired_queues boolean;
  v_available_queues boolean;
  v_first_level boolean;
  v_tried_level boolean;
  v_step0 record;
BEGIN
  IF get_job.worker_id IS NULL THEN
    RAISE EXCEPTION 'INVALID_WORKER_ID';
  END IF;
  v_cutoff := v_now - coalesce(get_job.job_expiry, app_jobs.job_expiry());

  -- 0. which of steps 1, 1b and 2 have anything to do, and whether any
  --    queue-less job has a better priority than 0: the first entry of
  --    four partial indexes (jobs_locked_at_idx, job_queues_locked_at_idx,
  --    job_queues_claimable_idx, jobs_runnable_idx).  Each probe is "the
  --    first entry in index order" (ORDER BY .. LIMIT 1, a cutoff as index
  --    bound), the one shape whose generic plan is the index scan however
  --    small the table was when it was planned (EXISTS on a table still
  --    empty is planned as a sequential scan, min() as an aggregate over the
  --    whole index, and either plan stays cached as the table grows).
  --
  --    The fast path: when nothing needs recovering, no named queue is
  --    claimable and no job is better than priority 0 (the default), the
  --    same statement claims the first due job of level 0 (step 3 for that
  --    level), so the usual claim is one statement and one scan of
  --    jobs_runnable_idx.  Why level 0 and not "the best level": the head
  --    of jobs_runnable_idx is where claimed jobs leave it, and their
  --    entries stay there, dead, until VACUUM (no insert ever lands on
  --    those pages, so PostgreSQL never cleans them on the way); a probe
  --    for the best level walks them all (147 buffers of one claim with 4
  --    busy workers, docs/performance.md), while "anything below 0?" stops
  --    at the first key of level 0 without reading a row.  Workers of
  --    other levels take the general path below, as before.
  WITH p AS MATERIALIZED (
    SELECT (SELECT j.locked_at FROM app_jobs.jobs AS j
             WHERE j.locked_at < v_cutoff ORDER BY j.locked_at LIMIT 1) IS NOT NULL AS expired_jobs,
           (SELECT q.locked_at FROM app_jobs.job_queues AS q
             WHERE q.locked_at < v_cutoff ORDER BY q.locked_at LIMIT 1) IS NOT NULL AS expired_queues,
           (SELECT q.queue_name FROM app_jobs.job_queues AS q
             WHERE q.locked_at IS NULL AND q.paused_at IS NULL ORDER BY q.queue_name LIMIT 1) IS NOT NULL AS available_queues,
           (SELECT j.priority FROM app_jobs.jobs AS j
             WHERE j.queue_name IS NULL AND j.locked_at IS NULL AND j.attempts < j.max_attempts
               AND j.priority < 0
             ORDER BY j.priority LIMIT 1) IS NOT NULL AS better_levels
  ), claimed AS (
    UPDATE app_jobs.jobs AS j
       SET attempts = j.attempts + 1,
           locked_by = get_job.worker_id,
           locked_at = v_now,
           updated_at = v_now
     WHERE j.id = (SELECT c.id
                     FROM app_jobs.jobs AS c
                    WHERE c.queue_name IS NULL AND c.locked_at IS NULL AND c.attempts < c.max_attempts
                      AND c.priority = 0
                      AND c.run_at <= v_now
                      AND (get_job.task_identifiers IS NULL OR c.task_identifier = ANY (get_job.task_identifiers))
                      AND (SELECT NOT (p.expired_jobs OR p.expired_queues OR p.available_queues OR p.better_levels)
                             FROM p)
                    ORDER BY c.priority, c.run_at, c.id
                    LIMIT 1
                      FOR UPDATE SKIP LOCKED)
    RETURNING j
  )
  SELECT p.expired_jobs, p.expired_queues, p.available_queues, p.better_levels,
         (SELECT claimed.j FROM claimed) AS job
    INTO v_step0
    FROM p;
  IF (v_step0.job).id IS NOT NULL THEN
    RETURN v_step0.job;
  END IF;
  v_expired_jobs := v_step0.expired_jobs;
  v_expired_queues := v_step0.expired_queues;
  v_available_queues := v_step0.available_queues;
  -- the fast path tried level 0, the best there is: step 3 starts after it
  v_tried_level := NOT (v_expired_jobs OR v_expired_queues OR v_available_queues OR v_step0.better_levels);

  -- 1. recover expired locks (never waits: SKIP LOCKED)
  IF v_expired_jobs THEN
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
    -- an expired job's queue is available now
    v_available_queues := true;
  END IF;

  -- 1b. queue locks older than the cutoff without a running job (it was
  --     deleted or moved by hand): release them here, so that step 2 asks
  --     for unlocked queues only and stays on job_queues_claimable_idx (an
  --     OR with the expiry would not).  A queue that still has a locked job
  --     keeps its lock: that job's row was busy for step 1 (SKIP LOCKED),
  --     and releasing its queue would let a second job of the queue run
  --     beside it; a later claim recovers both together.  The NOT EXISTS
  --     reads jobs_locked_at_idx (running jobs only), and only for expired
  --     queue locks, which are rare.
  IF v_expired_queues THEN
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
    v_available_queues := true;
  END IF;

  FOR v_round IN 1..3 LOOP
    -- 2. best head among available named queues (unlocked, not paused:
    --    job_queues_claimable_idx)
    v_head_id := NULL;
    IF v_available_queues THEN
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
                  AND (get_job.task_identifiers IS NULL OR j.task_identifier = ANY (get_job.task_identifiers))
                ORDER BY j.priority, j.run_at, j.id
                LIMIT 1) AS h
       WHERE q.locked_at IS NULL
         AND q.paused_at IS NULL
         AND q.queue_name <> ALL (v_skip)
       ORDER BY h.priority, h.run_at, h.id
       LIMIT 1
         FOR UPDATE OF q SKIP LOCKED;
    END IF;

    -- 3. queue-less jobs ordered before that head, level by level, from
    --    the best level (or, when step 0 tried level 0, from the next one)
    v_priority := NULL;
    v_first_level := true;
    LOOP
      IF v_first_level AND v_round = 1 AND v_tried_level THEN
        -- step 0 claimed nothing at level 0 (all of it future or busy)
        SELECT j.priority INTO v_priority
          FROM app_jobs.jobs AS j
         WHERE j.queue_name IS NULL AND j.locked_at IS NULL AND j.attempts < j.max_attempts
           AND j.priority > 0
         ORDER BY j.priority
         LIMIT 1;
      ELSIF v_first_level THEN
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
      v_first_level := false;
      EXIT WHEN v_priority IS NULL OR (v_head_id IS NOT NULL AND v_priority > v_head_priority);

      IF v_head_id IS NOT NULL AND v_priority = v_head_priority THEN
        v_bound_run_at := v_head_run_at;
        v_bound_id := v_head_id;
      ELSE
        v_bound_run_at := 'infinity';
        v_bound_id := 9223372036854775807;
      END IF;

      -- 4. claim: the level's first due job, row-locked (SKIP LOCKED) and
      --    updated in one statement
      UPDATE app_jobs.jobs AS j
         SET attempts = j.attempts + 1,
             locked_by = get_job.worker_id,
             locked_at = v_now,
             updated_at = v_now
       WHERE j.id = (SELECT c.id
                       FROM app_jobs.jobs AS c
                      WHERE c.queue_name IS NULL AND c.locked_at IS NULL AND c.attempts < c.max_attempts
                        AND c.priority = v_priority
                        AND c.run_at <= v_now
                        AND (c.run_at, c.id) < (v_bound_run_at, v_bound_id)
                        AND (get_job.task_identifiers IS NULL OR c.task_identifier = ANY (get_job.task_identifiers))
                      ORDER BY c.priority, c.run_at, c.id
                      LIMIT 1
                        FOR UPDATE SKIP LOCKED)
      RETURNING j.* INTO v_row;
      IF v_row.id IS NOT NULL THEN
        RETURN v_row;
      END IF;
    END LOOP;

    EXIT WHEN v_head_id IS NULL;

    -- The head's queue row is ours; take the job row without waiting (an
    -- admin function or a keyed add_job may hold it for a moment).
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
             locked_by = get_job.worker_id,
             locked_at = v_now,
             updated_at = v_now
       WHERE j.id = v_id
      RETURNING j.* INTO v_row;
      UPDATE app_jobs.job_queues AS q
         SET locked_by = get_job.worker_id,
             locked_at = v_now
       WHERE q.queue_name = v_head_queue;
      RETURN v_row;
    END IF;
    -- that head is busy: look again without its queue
    v_skip := v_skip || v_head_queue;
  END LOOP;

  RETURN v_row;  -- all NULL: nothing to do
END;
$$;

COMMIT;
