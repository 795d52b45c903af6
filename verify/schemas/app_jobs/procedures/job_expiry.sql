-- Verify pgpm-jobs:schemas/app_jobs/procedures/job_expiry on pg

BEGIN;

SELECT verify_function('app_jobs.job_expiry()', 'administrator');

DO $$
BEGIN
  IF has_function_privilege('public', 'app_jobs.job_expiry()', 'EXECUTE') THEN
    RAISE EXCEPTION 'PUBLIC may execute app_jobs.job_expiry()';
  END IF;
  PERFORM set_config('app_jobs.job_expiry', '', true);
  IF app_jobs.job_expiry() <> interval '4 hours' THEN
    RAISE EXCEPTION 'app_jobs.job_expiry() default is %, expected 4 hours', app_jobs.job_expiry();
  END IF;
  PERFORM set_config('app_jobs.job_expiry', '90 minutes', true);
  IF app_jobs.job_expiry() <> interval '90 minutes' THEN
    RAISE EXCEPTION 'app_jobs.job_expiry() ignores the setting';
  END IF;
END;
$$;

ROLLBACK;
