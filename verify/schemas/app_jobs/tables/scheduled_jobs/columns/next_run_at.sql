-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/next_run_at on pg

BEGIN;

SELECT next_run_at FROM app_jobs.scheduled_jobs WHERE false;

DO $$
BEGIN
  IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'app_jobs.scheduled_jobs'::regclass AND attname = 'next_run_at' AND NOT attisdropped)
     IS DISTINCT FROM 'timestamp with time zone' THEN
    RAISE EXCEPTION 'app_jobs.scheduled_jobs.next_run_at is missing or not timestamptz';
  END IF;
END;
$$;

ROLLBACK;
