-- Deploy pgpm-jobs:schemas/app_jobs/procedures/job_stats to pg
-- requires: schemas/app_jobs/tables/jobs/table
-- requires: schemas/app_jobs/tables/job_queues/columns/paused_at

BEGIN;

-- Admin: how many jobs are in which state, per task identifier and queue
-- (queue_name NULL: jobs without a queue), for one tenant (db_id) or all.
-- Every job is in exactly one state, tested in this order:
--   running    locked (locked_at set, expired or not: a lock past the
--              expiry is recovered by the next claim, not here);
--   failed     permanently failed: attempts >= max_attempts;
--   paused     its named queue is paused (pause_queue);
--   ready      run_at <= now(): a claim may take it now (for a job of a
--              named queue, once the queue's running job is done);
--   retrying   run_at in the future after a failed attempt (attempts > 0);
--   scheduled  run_at in the future, never attempted.
-- oldest_ready_age is now() - run_at of the longest-waiting ready job,
-- longest_running is now() - locked_at of the oldest lock.  One pass over
-- app_jobs.jobs (and the paused rows of job_queues): meant for operators
-- and metrics every few seconds, not for every claim.  Rows in task, queue
-- order.  A SQL function (no PL/pgSQL), SECURITY INVOKER: the caller needs
-- SELECT on the tables, as administrator has.
CREATE FUNCTION app_jobs.job_stats(
  db_id uuid DEFAULT NULL
)
RETURNS TABLE (
  task_identifier text,
  queue_name text,
  ready bigint,
  scheduled bigint,
  running bigint,
  retrying bigint,
  failed bigint,
  paused bigint,
  oldest_ready_age interval,
  longest_running interval
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.task_identifier, s.queue_name,
         count(*) FILTER (WHERE s.state = 'ready'),
         count(*) FILTER (WHERE s.state = 'scheduled'),
         count(*) FILTER (WHERE s.state = 'running'),
         count(*) FILTER (WHERE s.state = 'retrying'),
         count(*) FILTER (WHERE s.state = 'failed'),
         count(*) FILTER (WHERE s.state = 'paused'),
         now() - min(s.run_at) FILTER (WHERE s.state = 'ready'),
         now() - min(s.locked_at) FILTER (WHERE s.state = 'running')
    FROM (SELECT j.task_identifier, j.queue_name, j.run_at, j.locked_at,
                 CASE WHEN j.locked_at IS NOT NULL THEN 'running'
                      WHEN j.attempts >= j.max_attempts THEN 'failed'
                      WHEN p.queue_name IS NOT NULL THEN 'paused'
                      WHEN j.run_at <= now() THEN 'ready'
                      WHEN j.attempts > 0 THEN 'retrying'
                      ELSE 'scheduled'
                 END AS state
            FROM app_jobs.jobs AS j
            LEFT JOIN app_jobs.job_queues AS p
              ON p.queue_name = j.queue_name AND p.paused_at IS NOT NULL
           WHERE $1 IS NULL OR j.database_id = $1) AS s
   GROUP BY s.task_identifier, s.queue_name
   ORDER BY s.task_identifier, s.queue_name NULLS FIRST
$$;

COMMENT ON FUNCTION app_jobs.job_stats(uuid) IS
  'Admin: job counts per task identifier and queue by state (ready, scheduled, running, retrying, failed, paused), oldest ready age, longest running';

REVOKE EXECUTE ON FUNCTION app_jobs.job_stats(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.job_stats(uuid) TO administrator;

COMMIT;
