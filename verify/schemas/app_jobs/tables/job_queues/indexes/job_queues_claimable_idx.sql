-- Verify pgpm-jobs:schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx on pg

BEGIN;

SELECT verify_index('app_jobs.job_queues', 'job_queues_claimable_idx');

-- The column and the predicate are what the claim functions rely on.
DO $$
DECLARE
  expected constant text := 'CREATE INDEX job_queues_claimable_idx ON app_jobs.job_queues USING btree (queue_name) WHERE ((locked_at IS NULL) AND (paused_at IS NULL))';
  actual text;
BEGIN
  -- pg_get_indexdef leaves the table unqualified when app_jobs is on search_path
  SELECT regexp_replace(pg_get_indexdef(to_regclass('app_jobs.job_queues_claimable_idx')), ' ON (app_jobs\.)?', ' ON app_jobs.') INTO actual;
  IF actual IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'index app_jobs.job_queues_claimable_idx is %, expected %', actual, expected;
  END IF;
END;
$$;

ROLLBACK;
