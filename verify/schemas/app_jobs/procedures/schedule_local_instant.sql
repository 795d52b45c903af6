-- Verify pgpm-jobs:schemas/app_jobs/procedures/schedule_local_instant on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.schedule_local_instant(timestamp without time zone, text)', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.schedule_local_instant(timestamp without time zone, text)';
  r text;
BEGIN
  -- parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'wall timestamp without time zone, tz text' THEN
    RAISE EXCEPTION '% has arguments (%), expected (wall timestamp without time zone, tz text)', fn, pg_get_function_arguments(fn);
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
  IF app_jobs.schedule_local_instant('2024-03-31 02:30', 'Europe/Berlin') IS NOT NULL
     OR app_jobs.schedule_local_instant('2024-10-27 02:30', 'Europe/Berlin') IS DISTINCT FROM '2024-10-27 00:30+00'::timestamptz THEN
    RAISE EXCEPTION 'schedule_local_instant gets the Europe/Berlin transitions wrong';
  END IF;
END;
$$;

ROLLBACK;
