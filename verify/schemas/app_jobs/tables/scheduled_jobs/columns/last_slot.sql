-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/columns/last_slot on pg

BEGIN;

SELECT last_slot FROM app_jobs.scheduled_jobs WHERE false;

DO $$
BEGIN
  IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'app_jobs.scheduled_jobs'::regclass AND attname = 'last_slot' AND NOT attisdropped)
     IS DISTINCT FROM 'timestamp with time zone' THEN
    RAISE EXCEPTION 'app_jobs.scheduled_jobs.last_slot is missing or not timestamptz';
  END IF;
END;
$$;

ROLLBACK;
