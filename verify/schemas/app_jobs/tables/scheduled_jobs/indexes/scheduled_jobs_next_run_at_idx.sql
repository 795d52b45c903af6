-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_next_run_at_idx on pg

BEGIN;

SELECT verify_index('app_jobs.scheduled_jobs', 'scheduled_jobs_next_run_at_idx');

-- The columns and the predicate are what run_due_scheduled_jobs relies on.
DO $$
DECLARE
  expected constant text := 'CREATE INDEX scheduled_jobs_next_run_at_idx ON app_jobs.scheduled_jobs USING btree (next_run_at, id) WHERE ((locked_at IS NULL) AND (next_run_at IS NOT NULL))';
  actual text;
BEGIN
  -- pg_get_indexdef leaves the table unqualified when app_jobs is on search_path
  SELECT regexp_replace(pg_get_indexdef(to_regclass('app_jobs.scheduled_jobs_next_run_at_idx')), ' ON (app_jobs\.)?', ' ON app_jobs.') INTO actual;
  IF actual IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'index app_jobs.scheduled_jobs_next_run_at_idx is %, expected %', actual, expected;
  END IF;
END;
$$;

ROLLBACK;
