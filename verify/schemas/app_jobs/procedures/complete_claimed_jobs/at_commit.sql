-- Verify pgpm-jobs:schemas/app_jobs/procedures/complete_claimed_jobs/at_commit on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.complete_claimed_jobs(text, bigint[])', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.complete_claimed_jobs(text, bigint[])';
  r text;
BEGIN
  -- the contract: parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'worker_id text, job_ids bigint[]' THEN
    RAISE EXCEPTION '% has arguments (%), expected (worker_id text, job_ids bigint[])', fn, pg_get_function_arguments(fn);
  END IF;
  -- pg_get_function_result leaves app_jobs out when it is on search_path
  r := regexp_replace(pg_get_function_result(fn), '^(SETOF )?(app_jobs\.)?(jobs|scheduled_jobs)$', '\1app_jobs.\3');
  IF r IS DISTINCT FROM 'SETOF app_jobs.jobs' THEN
    RAISE EXCEPTION '% returns %, expected SETOF app_jobs.jobs', fn, r;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                  WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
    RAISE EXCEPTION '% does not pin search_path', fn;
  END IF;
  -- functions are executable by PUBLIC unless revoked
  IF has_function_privilege('public', fn, 'EXECUTE')
     OR has_function_privilege('anonymous', fn, 'EXECUTE')
     OR has_function_privilege('authenticated', fn, 'EXECUTE') THEN
    RAISE EXCEPTION '% is executable by PUBLIC, anonymous or authenticated', fn;
  END IF;
  -- the definition of this change: the queue is unlocked at commit, not here
  IF position('job_queues' IN (SELECT prosrc FROM pg_proc WHERE oid = fn)) > 0 THEN
    RAISE EXCEPTION '% is not the definition of complete_claimed_jobs/at_commit', fn;
  END IF;
END;
$$;

ROLLBACK;
