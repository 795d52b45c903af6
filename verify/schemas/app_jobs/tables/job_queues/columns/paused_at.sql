-- Verify pgpm-jobs:schemas/app_jobs/tables/job_queues/columns/paused_at on pg

BEGIN;

SELECT paused_at FROM app_jobs.job_queues WHERE false;

DO $$
BEGIN
  IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'app_jobs.job_queues'::regclass AND attname = 'paused_at' AND NOT attisdropped)
     IS DISTINCT FROM 'timestamp with time zone' THEN
    RAISE EXCEPTION 'app_jobs.job_queues.paused_at is missing or not timestamptz';
  END IF;
  -- after the contract's columns (clients read job_queues rows by position)
  IF (SELECT attnum FROM pg_attribute
       WHERE attrelid = 'app_jobs.job_queues'::regclass AND attname = 'paused_at' AND NOT attisdropped)
     <= (SELECT attnum FROM pg_attribute
          WHERE attrelid = 'app_jobs.job_queues'::regclass AND attname = 'locked_by' AND NOT attisdropped) THEN
    RAISE EXCEPTION 'app_jobs.job_queues.paused_at comes before the contract''s columns';
  END IF;
END;
$$;

ROLLBACK;
