-- Verify pgpm-jobs:schemas/app_jobs/procedures/refresh_job_locks on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.refresh_job_locks(text, bigint[])', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.refresh_job_locks(text, bigint[])';
BEGIN
  -- the contract: parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'worker_id text, job_ids bigint[] DEFAULT NULL::bigint[]' THEN
    RAISE EXCEPTION '% has arguments (%), expected (worker_id text, job_ids bigint[] DEFAULT NULL::bigint[])', fn, pg_get_function_arguments(fn);
  END IF;
  IF pg_get_function_result(fn) IS DISTINCT FROM 'SETOF bigint' THEN
    RAISE EXCEPTION '% returns %, expected SETOF bigint', fn, pg_get_function_result(fn);
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
