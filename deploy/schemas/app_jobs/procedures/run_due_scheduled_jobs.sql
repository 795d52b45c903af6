-- Deploy pgpm-jobs:schemas/app_jobs/procedures/run_due_scheduled_jobs to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at
-- requires: schemas/app_jobs/tables/scheduled_jobs/columns/last_slot
-- requires: schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_next_run_at_idx
-- requires: schemas/app_jobs/tables/scheduled_jobs/triggers/schedule_info_on_write
-- requires: schemas/app_jobs/procedures/parse_schedule_info
-- requires: schemas/app_jobs/procedures/schedule_spec_next
-- requires: schemas/app_jobs/procedures/schedule_spec_last
-- requires: schemas/app_jobs/procedures/add_job
-- requires: schemas/app_jobs/procedures/job_expiry

BEGIN;

-- The in-database scheduler: fire every unclaimed definition whose
-- next_run_at is due at `now` (default: the transaction's now()), and
-- return one row per job spawned: (scheduled_job_id, slot, job_id).
-- Any number of callers (workers, pg_cron, jobsctl schedule run) may call
-- it at any time; each slot fires at most once:
--   * due definitions are locked FOR UPDATE SKIP LOCKED, so concurrent
--     callers split them, and a caller that reaches a row another caller
--     has just handled re-reads it and finds it no longer due;
--   * next_run_at only moves forward, past every slot handled, in the
--     same transaction as the spawned jobs; a caller whose clock is behind
--     (or goes back) finds nothing due.
-- Per definition:
--   * slots: all slots in [next_run_at, now].  catchup "latest" (default)
--     fires only the latest of them (none if it is older than
--     catchupWindow, when given); catchup "backfill" fires each of them
--     that is within catchupWindow (default 1 hour) of now, oldest first.
--     The others are dropped.
--   * if the previously spawned job is still pending (including waiting
--     for a retry) or running with a lock younger than job_expiry, or
--     another job with the definition's key is running within job_expiry,
--     the due slots are SKIPPED (not deferred): nothing is spawned and
--     next_run_at moves past now, exactly as run_scheduled_job refuses
--     with ALREADY_SCHEDULED.
--   * spawned jobs are built as run_scheduled_job builds them (add_job
--     with the definition's tenant, task, payload, queue, priority,
--     max_attempts and key), except run_at = the slot, so that a handler
--     knows which slot it serves.  Of a backfilled batch only the newest
--     job carries the key (with it, each would replace the previous one).
--     last_scheduled (now()), last_scheduled_id and last_slot record the
--     newest.
--   * at most max_jobs jobs per call (NULL = no limit): definitions not
--     reached stay due for the next call; a backfill cut short continues
--     in the next call as the same batch (its jobs do not block each
--     other: last_scheduled_id moves to the batch's newest job only when
--     the batch is complete, and that job alone carries the key).
-- Definitions claimed by an external scheduler (get_scheduled_job) are
-- left to it.  Call it in READ COMMITTED (SKIP LOCKED under REPEATABLE
-- READ turns a lost race into a serialization error).  A NULL job_expiry
-- means app_jobs.job_expiry().
CREATE FUNCTION app_jobs.run_due_scheduled_jobs(
  now timestamptz DEFAULT now(),
  max_jobs integer DEFAULT 1000,
  job_expiry interval DEFAULT '1 hour'::interval
)
RETURNS TABLE (scheduled_job_id bigint, slot timestamptz, job_id bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_now constant timestamptz := coalesce(run_due_scheduled_jobs.now, pg_catalog.now());
  v_cutoff constant timestamptz := pg_catalog.now() - coalesce(run_due_scheduled_jobs.job_expiry, app_jobs.job_expiry());
  v_left integer := coalesce(run_due_scheduled_jobs.max_jobs, 2147483647);
  r record;
  v_spec app_jobs.schedule_spec;
  v_slots timestamptz[];
  v_slot timestamptz;
  v_from timestamptz;
  v_until timestamptz;
  v_job app_jobs.jobs;
  v_job_id bigint;
  v_cut boolean;
BEGIN
  IF v_left < 1 THEN
    RAISE EXCEPTION 'app_jobs.run_due_scheduled_jobs: max_jobs must be at least 1, got %', v_left
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT isfinite(v_now) THEN
    RAISE EXCEPTION 'app_jobs.run_due_scheduled_jobs: now must be a finite time, got %', v_now
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  FOR r IN
    SELECT s.id, s.database_id, s.queue_name, s.task_identifier, s.payload, s.priority,
           s.max_attempts, s.key, s.schedule_info, s.next_run_at, s.last_scheduled_id
      FROM app_jobs.scheduled_jobs AS s
     WHERE s.locked_at IS NULL
       AND s.next_run_at <= v_now
     ORDER BY s.next_run_at, s.id
     LIMIT v_left
       FOR UPDATE OF s SKIP LOCKED
  LOOP
    EXIT WHEN v_left < 1;
    BEGIN
      v_spec := app_jobs.parse_schedule_info(r.schedule_info);
    EXCEPTION WHEN invalid_parameter_value THEN
      -- only reachable for rows written with the trigger bypassed
      RAISE WARNING 'app_jobs.run_due_scheduled_jobs: scheduled job % has an invalid schedule_info %; it is stopped (next_run_at NULL)',
        r.id, r.schedule_info;
      UPDATE app_jobs.scheduled_jobs AS s SET next_run_at = NULL WHERE s.id = r.id;
      CONTINUE;
    END;

    -- the slots to fire
    v_slots := '{}';
    v_until := v_now;                  -- slots up to here are handled
    v_cut := false;
    IF v_spec.catchup = 'backfill' THEN
      v_from := greatest(r.next_run_at, v_now - coalesce(v_spec.catchup_window, interval '1 hour'))
                - interval '1 microsecond';
      LOOP
        v_slot := app_jobs.schedule_spec_next(v_spec, v_from);
        EXIT WHEN v_slot IS NULL OR v_slot > v_now;
        IF cardinality(v_slots) >= v_left THEN
          v_until := v_from;           -- out of budget: the rest stays due
          v_cut := true;
          EXIT;
        END IF;
        v_slots := v_slots || v_slot;
        v_from := v_slot;
      END LOOP;
    ELSE
      v_slot := app_jobs.schedule_spec_last(v_spec, r.next_run_at - interval '1 microsecond', v_now);
      IF v_slot IS NOT NULL
         AND (v_spec.catchup_window IS NULL OR v_slot >= v_now - v_spec.catchup_window) THEN
        v_slots := ARRAY[v_slot];
      END IF;
    END IF;

    -- the previous run still pending or running: skip (as run_scheduled_job)
    IF cardinality(v_slots) > 0 AND (
         (r.last_scheduled_id IS NOT NULL AND EXISTS (
            SELECT 1
              FROM app_jobs.jobs AS j
             WHERE j.id = r.last_scheduled_id
               AND ((j.locked_at IS NULL AND j.attempts < j.max_attempts)  -- pending or waiting for a retry
                    OR j.locked_at >= v_cutoff)))                          -- running, lock not expired
      OR (r.key IS NOT NULL AND EXISTS (
            SELECT 1
              FROM app_jobs.jobs AS j
             WHERE j.database_id = r.database_id
               AND j.key = r.key
               AND j.locked_at >= v_cutoff)))
    THEN
      v_slots := '{}';
      v_until := v_now;
      v_cut := false;
    END IF;

    v_job_id := NULL;
    FOR i IN 1..cardinality(v_slots) LOOP
      v_job := app_jobs.add_job(db_id := r.database_id,
                                identifier := r.task_identifier,
                                payload := r.payload,
                                job_key := CASE WHEN i = cardinality(v_slots) AND NOT v_cut THEN r.key END,
                                queue_name := r.queue_name,
                                run_at := v_slots[i],
                                max_attempts := r.max_attempts,
                                priority := r.priority);
      v_job_id := v_job.id;
      v_left := v_left - 1;
      scheduled_job_id := r.id;
      slot := v_slots[i];
      job_id := v_job.id;
      RETURN NEXT;
    END LOOP;

    UPDATE app_jobs.scheduled_jobs AS s
       SET next_run_at = app_jobs.schedule_spec_next(v_spec, v_until),
           last_slot = coalesce(v_slots[cardinality(v_slots)], s.last_slot),
           last_scheduled = CASE WHEN v_job_id IS NULL THEN s.last_scheduled ELSE pg_catalog.now() END,
           last_scheduled_id = CASE WHEN v_cut THEN s.last_scheduled_id ELSE coalesce(v_job_id, s.last_scheduled_id) END
     WHERE s.id = r.id;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION app_jobs.run_due_scheduled_jobs(timestamptz, integer, interval) IS
  'Fire the due slots of every unclaimed scheduled job, once per slot across concurrent callers; returns (scheduled_job_id, slot, job_id) per spawned job';

REVOKE EXECUTE ON FUNCTION app_jobs.run_due_scheduled_jobs(timestamptz, integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.run_due_scheduled_jobs(timestamptz, integer, interval) TO administrator;

COMMIT;
