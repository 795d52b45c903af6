-- Verify pgpm-jobs:schemas/app_jobs/procedures/pause_queue on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.pause_queue(text)', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.pause_queue(text)';
  r text;
BEGIN
  -- parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'queue_name text' THEN
    RAISE EXCEPTION '% has arguments (%), expected (queue_name text)', fn, pg_get_function_arguments(fn);
  END IF;
  -- pg_get_function_result leaves app_jobs out when it is on search_path
  r := regexp_replace(pg_get_function_result(fn), '^(SETOF )?(app_jobs\.)?(jobs|job_queues)$', '\1app_jobs.\3');
  IF r IS DISTINCT FROM 'app_jobs.job_queues' THEN
    RAISE EXCEPTION '% returns %, expected app_jobs.job_queues', fn, r;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                  WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
    RAISE EXCEPTION '% does not pin search_path', fn;
  END IF;
  IF (SELECT p.prosecdef FROM pg_proc p WHERE p.oid = fn) THEN
    RAISE EXCEPTION '% must be SECURITY INVOKER', fn;
  END IF;
  -- functions are executable by PUBLIC unless revoked
  IF has_function_privilege('public', fn, 'EXECUTE')
     OR has_function_privilege('anonymous', fn, 'EXECUTE')
     OR has_function_privilege('authenticated', fn, 'EXECUTE') THEN
    RAISE EXCEPTION '% is executable by PUBLIC, anonymous or authenticated', fn;
  END IF;
END;
$$;

ROLLBACK;
