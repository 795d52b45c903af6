-- The tail of `jobsctl adopt`, after every pgpm-jobs change ran: make
-- app_jobs.job_queues exact, as our counting triggers keep it from now on.
-- Upstream counted with its own triggers, which TRUNCATE and hand-made rows
-- get past.  Every lock (locked_by, locked_at) is kept as it is: a queue
-- whose job a running upstream worker holds stays held by that worker, so
-- its complete_job / fail_job unlock it as before.  Unlocked rows without
-- jobs go (ours removes a queue's row with its last job); a locked row
-- without jobs stays until its worker reports or its lock expires.

-- step: recompute job_queues.job_count, keeping every queue lock
INSERT INTO app_jobs.job_queues (queue_name, job_count)
SELECT j.queue_name, pg_catalog.count(*)
  FROM app_jobs.jobs AS j
 WHERE j.queue_name IS NOT NULL
 GROUP BY j.queue_name
ON CONFLICT (queue_name) DO UPDATE SET job_count = EXCLUDED.job_count
 WHERE app_jobs.job_queues.job_count IS DISTINCT FROM EXCLUDED.job_count;
DELETE FROM app_jobs.job_queues AS q
 WHERE q.locked_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM app_jobs.jobs AS j WHERE j.queue_name = q.queue_name);
UPDATE app_jobs.job_queues AS q
   SET job_count = 0
 WHERE q.job_count <> 0
   AND NOT EXISTS (SELECT 1 FROM app_jobs.jobs AS j WHERE j.queue_name = q.queue_name);
