-- Verify pgpm-jobs:schemas/app_jobs/procedures/get_job/available_queues on pg

BEGIN;

-- exists with the contract's signature, and administrator may call it
SELECT verify_function('app_jobs.get_job(text, text[], interval)', 'administrator');

-- the definition of this change: available queues through the partial
-- index, expired queue locks released first, generic plans
DO $$
DECLARE
  src constant text := (SELECT prosrc FROM pg_proc WHERE oid = 'app_jobs.get_job(text, text[], interval)'::regprocedure);
BEGIN
  IF position('WHERE q.locked_at IS NULL' IN src) = 0
     OR position('q2.locked_at < v_cutoff' IN src) = 0
     OR position('OR q.locked_at < v_cutoff' IN src) > 0
     OR NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                     WHERE p.oid = 'app_jobs.get_job(text, text[], interval)'::regprocedure AND s.setting = 'plan_cache_mode=force_generic_plan') THEN
    RAISE EXCEPTION 'app_jobs.get_job is not the definition of get_job/available_queues';
  END IF;
END;
$$;

ROLLBACK;
