-- Verify pgpm-jobs:schemas/app_jobs/procedures/get_job/fast_path on pg

BEGIN;

-- exists with the contract's signature, and administrator may call it
SELECT verify_function('app_jobs.get_job(text, text[], interval)', 'administrator');

-- the definition of this change: the usual claim is step 0 (fast path);
-- paused queues still left out; generic plans, pinned search_path, no PUBLIC
DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.get_job(text, text[], interval)';
  src constant text := (SELECT prosrc FROM pg_proc WHERE oid = fn);
BEGIN
  IF position('AND q.paused_at IS NULL' IN src) = 0
     OR position('v_tried_level' IN src) = 0
     OR position('OR q.locked_at < v_cutoff' IN src) > 0
     OR NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                     WHERE p.oid = fn AND s.setting = 'plan_cache_mode=force_generic_plan') THEN
    RAISE EXCEPTION '% is not the definition of get_job/fast_path', fn;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                  WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
    RAISE EXCEPTION '% does not pin search_path', fn;
  END IF;
  IF has_function_privilege('public', fn, 'EXECUTE')
     OR has_function_privilege('anonymous', fn, 'EXECUTE')
     OR has_function_privilege('authenticated', fn, 'EXECUTE') THEN
    RAISE EXCEPTION '% is executable by PUBLIC, anonymous or authenticated', fn;
  END IF;
END;
$$;

ROLLBACK;
