-- Verify pgpm-jobs:schemas/app_jobs/triggers/tg_update_job_queue_count on pg

BEGIN;

SELECT verify_function('app_jobs.tg_update_job_queue_count()');
SELECT verify_security_definer('app_jobs.tg_update_job_queue_count()');

DO $$
BEGIN
  IF 'app_jobs.tg_update_job_queue_count()'::regprocedure::oid NOT IN
       (SELECT oid FROM pg_proc WHERE prorettype = 'trigger'::regtype) THEN
    RAISE EXCEPTION 'app_jobs.tg_update_job_queue_count() is not a trigger function';
  END IF;
  IF has_function_privilege('public', 'app_jobs.tg_update_job_queue_count()', 'EXECUTE') THEN
    RAISE EXCEPTION 'PUBLIC may execute app_jobs.tg_update_job_queue_count()';
  END IF;
END;
$$;

ROLLBACK;
