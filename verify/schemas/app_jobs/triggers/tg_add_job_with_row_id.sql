-- Verify pgpm-jobs:schemas/app_jobs/triggers/tg_add_job_with_row_id on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.tg_add_job_with_row_id()', 'administrator');
SELECT verify_security_definer('app_jobs.tg_add_job_with_row_id()');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.tg_add_job_with_row_id()';
  r text;
BEGIN
  -- the contract: parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM '' THEN
    RAISE EXCEPTION '% has arguments (%), expected ()', fn, pg_get_function_arguments(fn);
  END IF;
  -- pg_get_function_result leaves app_jobs out when it is on search_path
  r := regexp_replace(pg_get_function_result(fn), '^(SETOF )?(app_jobs\.)?(jobs|scheduled_jobs)$', '\1app_jobs.\3');
  IF r IS DISTINCT FROM 'trigger' THEN
    RAISE EXCEPTION '% returns %, expected trigger', fn, r;
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
