-- Verify pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_last on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamp with time zone, timestamp with time zone)', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamp with time zone, timestamp with time zone)';
  r text;
BEGIN
  -- parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'spec app_jobs.schedule_spec, lo timestamp with time zone, hi timestamp with time zone' THEN
    RAISE EXCEPTION '% has arguments (%), expected (spec app_jobs.schedule_spec, lo timestamp with time zone, hi timestamp with time zone)', fn, pg_get_function_arguments(fn);
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
  IF app_jobs.schedule_spec_last(app_jobs.parse_schedule_info('{"rule": "*/15 * * * *"}'), '2026-01-01 00:00+00', '2026-01-01 10:07+00')
     IS DISTINCT FROM '2026-01-01 10:00+00'::timestamptz THEN
    RAISE EXCEPTION 'schedule_spec_last is wrong';
  END IF;
END;
$$;

ROLLBACK;
