-- Verify pgpm-jobs:schemas/app_jobs/procedures/schedule_next on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.schedule_next(json, timestamp with time zone)', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.schedule_next(json, timestamp with time zone)';
  r text;
BEGIN
  -- parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'schedule_info json, after timestamp with time zone' THEN
    RAISE EXCEPTION '% has arguments (%), expected (schedule_info json, after timestamp with time zone)', fn, pg_get_function_arguments(fn);
  END IF;
  r := regexp_replace(pg_get_function_result(fn), '(app_jobs\.)?(schedule_spec|jobs|scheduled_jobs)\M', 'app_jobs.\2', 'g');
  IF r IS DISTINCT FROM 'timestamp with time zone' THEN
    RAISE EXCEPTION '% returns %, expected timestamp with time zone', fn, r;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS s(setting)
                  WHERE p.oid = fn AND s.setting LIKE 'search\_path=%') THEN
    RAISE EXCEPTION '% does not pin search_path', fn;
  END IF;
  IF (SELECT prosecdef FROM pg_proc WHERE oid = fn) THEN
    RAISE EXCEPTION '% must not be SECURITY DEFINER', fn;
  END IF;
  -- functions are executable by PUBLIC unless revoked
  IF has_function_privilege('public', fn, 'EXECUTE')
     OR has_function_privilege('anonymous', fn, 'EXECUTE')
     OR has_function_privilege('authenticated', fn, 'EXECUTE') THEN
    RAISE EXCEPTION '% is executable by PUBLIC, anonymous or authenticated', fn;
  END IF;
END;
$$;

DO $$
BEGIN
  IF app_jobs.schedule_next('{"rule": "30 2 * * *", "tz": "Europe/Berlin"}', '2024-03-30 02:00+00') IS DISTINCT FROM '2024-04-01 00:30+00'::timestamptz
     OR app_jobs.schedule_next('{"rule": "0 0 30 2 *"}', '2026-01-01 00:00+00') IS NOT NULL THEN
    RAISE EXCEPTION 'schedule_next is wrong';
  END IF;
END;
$$;

ROLLBACK;
