-- Verify pgpm-jobs:schemas/app_jobs/procedures/parse_schedule_info on pg

BEGIN;

-- exists with this exact signature, and administrator may call it
SELECT verify_function('app_jobs.parse_schedule_info(json)', 'administrator');

DO $$
DECLARE
  fn constant regprocedure := 'app_jobs.parse_schedule_info(json)';
  r text;
BEGIN
  -- parameter names, order, types and defaults; return type
  IF pg_get_function_arguments(fn) IS DISTINCT FROM 'schedule_info json' THEN
    RAISE EXCEPTION '% has arguments (%), expected (schedule_info json)', fn, pg_get_function_arguments(fn);
  END IF;
  r := regexp_replace(pg_get_function_result(fn), '(app_jobs\.)?(schedule_spec|jobs|scheduled_jobs)\M', 'app_jobs.\2', 'g');
  IF r IS DISTINCT FROM 'app_jobs.schedule_spec' THEN
    RAISE EXCEPTION '% returns %, expected app_jobs.schedule_spec', fn, r;
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

-- it compiles and it refuses, naming the field
DO $$
DECLARE
  s app_jobs.schedule_spec := app_jobs.parse_schedule_info('{"rule": "*/20 9-17 * * MON-FRI", "tz": "Europe/Berlin"}');
BEGIN
  IF s.minutes IS DISTINCT FROM ARRAY[0, 20, 40] OR s.weekdays IS DISTINCT FROM ARRAY[1, 2, 3, 4, 5] OR s.tz IS DISTINCT FROM 'Europe/Berlin' THEN
    RAISE EXCEPTION 'parse_schedule_info compiled %', s;
  END IF;
  BEGIN
    PERFORM app_jobs.parse_schedule_info('{"rule": "61 * * * *"}');
    RAISE EXCEPTION 'parse_schedule_info accepted minute 61';
  EXCEPTION WHEN invalid_parameter_value THEN
    NULL;
  END;
END;
$$;

ROLLBACK;
