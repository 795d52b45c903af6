-- Verify pgpm-jobs:schemas/app_jobs/procedures/add_jobs/notify_mode on pg

BEGIN;

SELECT verify_function('app_jobs.add_jobs(jsonb)', 'administrator');

-- the definition of this change: notifications through notify_jobs_insert
DO $$
BEGIN
  IF position('app_jobs.notify_jobs_insert(' IN (SELECT prosrc FROM pg_proc WHERE oid = 'app_jobs.add_jobs(jsonb)'::regprocedure)) = 0 THEN
    RAISE EXCEPTION 'app_jobs.add_jobs does not notify through app_jobs.notify_jobs_insert';
  END IF;
END;
$$;

ROLLBACK;
