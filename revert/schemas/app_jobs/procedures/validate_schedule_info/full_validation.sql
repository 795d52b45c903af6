-- Revert pgpm-jobs:schemas/app_jobs/procedures/validate_schedule_info/full_validation from pg

BEGIN;

-- Back to the definition of schemas/app_jobs/procedures/validate_schedule_info
-- (@0.1.0): the minimal check.
CREATE OR REPLACE FUNCTION app_jobs.validate_schedule_info(
  schedule_info json
)
RETURNS json
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_info jsonb;
  v_unknown text[];
  v_unit record;
  v_value jsonb;
  v_fields text[];
  v_start timestamptz;
  v_end timestamptz;
  v_problem text;
BEGIN
  IF validate_schedule_info.schedule_info IS NULL THEN
    v_problem := 'schedule_info must not be NULL';
  ELSIF json_typeof(validate_schedule_info.schedule_info) <> 'object' THEN
    v_problem := format('schedule_info must be a JSON object, got %s', json_typeof(validate_schedule_info.schedule_info));
  END IF;

  IF v_problem IS NULL THEN
    v_info := validate_schedule_info.schedule_info::jsonb;

    IF v_info ? 'rule' THEN
      SELECT array_agg(k ORDER BY k) INTO v_unknown
        FROM jsonb_object_keys(v_info) AS k
       WHERE k NOT IN ('rule', 'start', 'end', 'tz');
      IF v_unknown IS NOT NULL THEN
        v_problem := format('unknown keys %s in the rule form (allowed: rule, start, end, tz)', v_unknown);
      ELSIF jsonb_typeof(v_info -> 'rule') <> 'string' THEN
        v_problem := 'rule must be a string';
      ELSE
        v_fields := regexp_split_to_array(btrim(v_info ->> 'rule'), '\s+');
        IF cardinality(v_fields) NOT IN (5, 6) THEN
          v_problem := format('rule must have 5 or 6 cron fields, got %s: %s', cardinality(v_fields), v_info ->> 'rule');
        ELSIF EXISTS (SELECT 1 FROM unnest(v_fields) AS f WHERE f !~ '^[0-9A-Za-z*,/?#-]+$') THEN
          v_problem := format('rule has a field with characters a cron field cannot contain: %s', v_info ->> 'rule');
        END IF;
      END IF;
      IF v_problem IS NULL THEN
        FOR v_unit IN SELECT * FROM (VALUES ('start'), ('end')) AS u(name) LOOP
          CONTINUE WHEN NOT v_info ? v_unit.name;
          IF jsonb_typeof(v_info -> v_unit.name) <> 'string' THEN
            v_problem := format('%s must be a time string', v_unit.name);
            EXIT;
          END IF;
          BEGIN
            IF v_unit.name = 'start' THEN
              v_start := (v_info ->> 'start')::timestamptz;
            ELSE
              v_end := (v_info ->> 'end')::timestamptz;
            END IF;
          EXCEPTION WHEN others THEN
            v_problem := format('%s is not a valid time: %s', v_unit.name, v_info ->> v_unit.name);
            EXIT;
          END;
        END LOOP;
        IF v_problem IS NULL AND v_start >= v_end THEN
          v_problem := format('start (%s) must be before end (%s)', v_info ->> 'start', v_info ->> 'end');
        END IF;
      END IF;
    ELSE
      SELECT array_agg(k ORDER BY k) INTO v_unknown
        FROM jsonb_object_keys(v_info) AS k
       WHERE k NOT IN ('year', 'month', 'date', 'dayOfWeek', 'hour', 'minute', 'second', 'tz');
      IF v_unknown IS NOT NULL THEN
        v_problem := format('unknown keys %s (the recurrence form allows year, month, date, dayOfWeek, hour, minute, second, tz; the rule form needs "rule")', v_unknown);
      END IF;
      IF v_problem IS NULL THEN
        FOR v_unit IN
          SELECT * FROM (VALUES ('year', 1970, 9999), ('month', 0, 11), ('date', 1, 31),
                                ('dayOfWeek', 0, 6), ('hour', 0, 23), ('minute', 0, 59),
                                ('second', 0, 59)) AS u(name, lo, hi)
        LOOP
          CONTINUE WHEN NOT v_info ? v_unit.name;
          v_value := v_info -> v_unit.name;
          IF jsonb_typeof(v_value) = 'number' THEN
            v_value := jsonb_build_array(v_value);
          ELSIF jsonb_typeof(v_value) <> 'array' OR jsonb_array_length(v_value) = 0 THEN
            v_problem := format('%s must be a number or a non-empty array of numbers, got %s', v_unit.name, v_info -> v_unit.name);
            EXIT;
          END IF;
          IF EXISTS (SELECT 1 FROM jsonb_array_elements(v_value) AS e
                      WHERE jsonb_typeof(e) <> 'number'
                         OR (e #>> '{}')::numeric <> trunc((e #>> '{}')::numeric)
                         OR (e #>> '{}')::numeric NOT BETWEEN v_unit.lo AND v_unit.hi) THEN
            v_problem := format('%s must hold integers from %s to %s, got %s', v_unit.name, v_unit.lo, v_unit.hi, v_info -> v_unit.name);
            EXIT;
          END IF;
        END LOOP;
      END IF;
    END IF;

    IF v_problem IS NULL AND v_info ? 'tz' THEN
      IF jsonb_typeof(v_info -> 'tz') <> 'string' THEN
        v_problem := 'tz must be a time zone name';
      ELSE
        BEGIN
          PERFORM now() AT TIME ZONE (v_info ->> 'tz');
        EXCEPTION WHEN others THEN
          v_problem := format('tz is not a known time zone: %s', v_info ->> 'tz');
        END;
      END IF;
    END IF;
  END IF;

  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION 'INVALID_SCHEDULE_INFO'
      USING DETAIL = v_problem, ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN validate_schedule_info.schedule_info;
END;
$$;

COMMENT ON FUNCTION app_jobs.validate_schedule_info(json) IS
  'Minimal check of schedule_info (rule or recurrence form); returns it or raises INVALID_SCHEDULE_INFO';

COMMIT;
