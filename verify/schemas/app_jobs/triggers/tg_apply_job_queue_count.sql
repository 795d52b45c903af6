-- Verify pgpm-jobs:schemas/app_jobs/triggers/tg_apply_job_queue_count on pg

BEGIN;

SELECT verify_function('app_jobs.tg_apply_job_queue_count()');
SELECT verify_security_definer('app_jobs.tg_apply_job_queue_count()');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.tg_apply_job_queue_count()';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                  WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
    RAISE EXCEPTION '% does not pin search_path', fn;
  END IF;
  IF has_function_privilege('public', fn, 'EXECUTE') THEN
    RAISE EXCEPTION 'PUBLIC may execute %', fn;
  END IF;
END;
$$;

ROLLBACK;
