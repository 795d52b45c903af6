-- Verify pgpm-jobs:schemas/app_jobs/procedures/notify_jobs_insert on pg

BEGIN;

SELECT verify_function('app_jobs.notify_jobs_insert(text)', 'administrator');

DO $$
BEGIN
  IF has_function_privilege('public', 'app_jobs.notify_jobs_insert(text)', 'EXECUTE') THEN
    RAISE EXCEPTION 'PUBLIC may execute app_jobs.notify_jobs_insert(text)';
  END IF;
  -- a misspelt mode is an error, not "on"
  PERFORM set_config('app_jobs.notify', 'coalesced', true);
  BEGIN
    PERFORM app_jobs.notify_jobs_insert('verify');
    RAISE EXCEPTION 'app_jobs.notify_jobs_insert accepts app_jobs.notify = coalesced';
  EXCEPTION WHEN invalid_parameter_value THEN
    NULL;
  END;
END;
$$;

ROLLBACK;
