-- Deploy pgpm-jobs:schemas/app_jobs/procedures/parse_schedule_info to pg
-- requires: schemas/app_jobs/types/schedule_spec

BEGIN;

-- Check a schedule_info and compile it into an app_jobs.schedule_spec, or
-- raise INVALID_SCHEDULE_INFO (SQLSTATE 22023) with the reason, naming the
-- offending key or cron field, in DETAIL.  The one place where
-- schedule_info is read: validation (validate_schedule_info, the trigger on
-- app_jobs.scheduled_jobs) and evaluation (schedule_next,
-- run_due_scheduled_jobs) cannot disagree.
--
-- Rule form: {"rule": "<5 or 6 cron fields>", "start", "end", "tz",
-- "catchup", "catchupWindow"}.  Fields: [second] minute hour day-of-month
-- month day-of-week; items separated by commas; each item *, a value, a
-- range a-b, optionally followed by /step (a/step means a-last/step);
-- month names JAN-DEC and weekday names SUN-SAT in any case; day-of-week
-- 0-7 with 0 and 7 = Sunday; "?" alone = "*" in the two day fields; "L" in
-- day-of-month = the last day of the month; "nL" and "n#k" in day-of-week
-- = the last / k-th (1-5) weekday n of the month.  When day-of-month and
-- day-of-week are both restricted (neither starts with * or ?), a day
-- matches when either matches (Vixie cron).
--
-- Recurrence form: any of year (1970-9999), month (0-11), date (1-31),
-- dayOfWeek (0-6, 0 = Sunday), hour, minute, second, each an integer or a
-- non-empty array of integers; a missing unit is "any" except second (0);
-- every given unit must match.  Also "start", "end", "tz", "catchup",
-- "catchupWindow".
--
-- start/end: ISO 8601 times (YYYY-MM-DD...).  With an offset or zone they
-- are absolute; without, they are wall times in tz.  tz: a zone PostgreSQL
-- knows (IANA names); UTC when absent.  catchup: "latest" (default) or
-- "backfill"; catchupWindow: a positive interval ("1 hour", "PT15M").
--
-- TimeZone is pinned so that the result never depends on the session.
CREATE FUNCTION app_jobs.parse_schedule_info(
  schedule_info json
)
RETURNS app_jobs.schedule_spec
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET "TimeZone" = 'UTC'
AS $$
DECLARE
  v_units constant text[] := ARRAY['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
  v_lo constant integer[] := ARRAY[0, 0, 0, 1, 1, 0];
  v_hi constant integer[] := ARRAY[59, 59, 23, 31, 12, 7];
  v_month_names constant text[] := ARRAY['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  v_day_names constant text[] := ARRAY['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
  v_info jsonb;
  v_spec app_jobs.schedule_spec;
  v_problem text;
  v_unknown text[];
  v_fields text[];
  v_shift integer;
  v_field text;
  v_item text;
  v_parts text[];
  v_base text;
  v_tokens text[];
  v_token text;
  v_numbers integer[];
  v_n integer;
  v_k integer;
  v_step integer;
  v_first integer;
  v_last integer;
  v_values integer[];
  v_lasts integer[];
  v_nths integer[];
  v_last_day boolean;
  v_unit record;
  v_value jsonb;
  v_key text;
  v_time text;
  v_at timestamptz;
  v_other timestamptz;
  v_window interval;
BEGIN
  <<checks>>
  BEGIN
    IF parse_schedule_info.schedule_info IS NULL THEN
      v_problem := 'schedule_info must not be NULL';
      EXIT checks;
    END IF;
    IF json_typeof(parse_schedule_info.schedule_info) <> 'object' THEN
      v_problem := format('schedule_info must be a JSON object, got %s', json_typeof(parse_schedule_info.schedule_info));
      EXIT checks;
    END IF;
    v_info := parse_schedule_info.schedule_info::jsonb;

    IF v_info ? 'rule' THEN
      ---------------------------------------------------------------- rule form
      SELECT array_agg(k ORDER BY k) INTO v_unknown
        FROM jsonb_object_keys(v_info) AS k
       WHERE k NOT IN ('rule', 'start', 'end', 'tz', 'catchup', 'catchupWindow');
      IF v_unknown IS NOT NULL THEN
        v_problem := format('unknown keys %s in the rule form (allowed: rule, start, end, tz)', v_unknown);
        EXIT checks;
      END IF;
      IF jsonb_typeof(v_info -> 'rule') <> 'string' THEN
        v_problem := 'rule must be a string';
        EXIT checks;
      END IF;
      v_fields := regexp_split_to_array(btrim(v_info ->> 'rule'), '\s+');
      IF cardinality(v_fields) NOT IN (5, 6) THEN
        v_problem := format('rule must have 5 or 6 cron fields, got %s: %s', cardinality(v_fields), v_info ->> 'rule');
        EXIT checks;
      END IF;
      IF EXISTS (SELECT 1 FROM unnest(v_fields) AS f WHERE f !~ '^[0-9A-Za-z*,/?#-]+$') THEN
        v_problem := format('rule has a field with characters a cron field cannot contain: %s', v_info ->> 'rule');
        EXIT checks;
      END IF;

      v_shift := 6 - cardinality(v_fields);   -- 1 without a seconds field
      v_spec.seconds := ARRAY[0];
      FOR i IN (1 + v_shift)..6 LOOP
        v_field := v_fields[i - v_shift];
        v_values := '{}';
        v_lasts := '{}';
        v_nths := '{}';
        v_last_day := false;
        <<items>>
        FOREACH v_item IN ARRAY string_to_array(v_field, ',') LOOP
          IF v_item = '' THEN
            v_problem := 'empty list item';
            EXIT items;
          END IF;
          v_parts := string_to_array(v_item, '/');
          IF cardinality(v_parts) > 2 THEN
            v_problem := format('%s has more than one "/"', v_item);
            EXIT items;
          END IF;
          v_base := upper(v_parts[1]);   -- names and L in any case
          v_step := NULL;
          IF cardinality(v_parts) = 2 THEN
            IF v_parts[2] !~ '^[0-9]{1,4}$' OR v_parts[2]::integer NOT BETWEEN 1 AND v_hi[i] THEN
              v_problem := format('step "%s" must be a whole number from 1 to %s', v_parts[2], v_hi[i]);
              EXIT items;
            END IF;
            v_step := v_parts[2]::integer;
          END IF;

          -- the special forms of the day fields
          IF v_base = '?' THEN
            IF i NOT IN (4, 6) OR v_step IS NOT NULL THEN
              v_problem := '"?" is only allowed alone, in day-of-month and day-of-week';
              EXIT items;
            END IF;
          ELSIF i = 4 AND v_base = 'L' THEN
            IF v_step IS NOT NULL THEN
              v_problem := '"L" takes no step';
              EXIT items;
            END IF;
            v_last_day := true;
            CONTINUE items;
          ELSIF i = 6 AND (v_base ~ '^[0-9A-Z]+L$' OR v_base ~ '#') THEN
            IF v_step IS NOT NULL THEN
              v_problem := format('%s takes no step', v_base);
              EXIT items;
            END IF;
            IF v_base ~ '#' THEN
              v_tokens := string_to_array(v_base, '#');
              IF cardinality(v_tokens) <> 2 OR v_tokens[2] !~ '^[1-5]$' THEN
                v_problem := format('%s: "#" needs a weekday and a week number from 1 to 5 (e.g. 5#3)', v_base);
                EXIT items;
              END IF;
              v_k := v_tokens[2]::integer;
              v_token := v_tokens[1];
            ELSE
              v_k := NULL;
              v_token := left(v_base, -1);
            END IF;
            IF v_token ~ '^[0-9]{1,4}$' AND v_token::integer <= 7 THEN
              v_n := v_token::integer % 7;
            ELSIF array_position(v_day_names, v_token) IS NOT NULL THEN
              v_n := array_position(v_day_names, v_token) - 1;
            ELSE
              v_problem := format('%s: %s is not a weekday (0-7 or SUN-SAT)', v_base, v_token);
              EXIT items;
            END IF;
            IF v_k IS NULL THEN
              v_lasts := v_lasts || v_n;
            ELSE
              v_nths := v_nths || (v_n * 10 + v_k);
            END IF;
            CONTINUE items;
          ELSIF i = 6 AND v_base = 'L' THEN
            v_problem := '"L" in day-of-week needs a weekday before it (e.g. 5L, the last Friday)';
            EXIT items;
          END IF;

          IF v_base IN ('*', '?') THEN
            v_first := v_lo[i];
            v_last := CASE WHEN i = 6 THEN 6 ELSE v_hi[i] END;
          ELSE
            v_tokens := string_to_array(v_base, '-');
            IF cardinality(v_tokens) > 2 OR '' = ANY (v_tokens) THEN
              v_problem := format('%s is not a value or a range a-b', v_base);
              EXIT items;
            END IF;
            v_numbers := '{}';
            FOREACH v_token IN ARRAY v_tokens LOOP
              IF v_token ~ '^[0-9]{1,4}$' THEN
                v_n := v_token::integer;
              ELSIF i = 5 AND array_position(v_month_names, v_token) IS NOT NULL THEN
                v_n := array_position(v_month_names, v_token);
              ELSIF i = 6 AND array_position(v_day_names, v_token) IS NOT NULL THEN
                v_n := array_position(v_day_names, v_token) - 1;
              ELSIF v_token ~ '^[0-9]+$' THEN
                v_problem := format('%s is out of range %s-%s', v_token, v_lo[i], v_hi[i]);
                EXIT items;
              ELSE
                v_problem := format('unknown name %s%s', v_token,
                                    CASE i WHEN 5 THEN ' (months are 1-12 or JAN-DEC)'
                                           WHEN 6 THEN ' (weekdays are 0-7 or SUN-SAT)'
                                           ELSE ' (only month and day-of-week take names)' END);
                EXIT items;
              END IF;
              IF v_n NOT BETWEEN v_lo[i] AND v_hi[i] THEN
                v_problem := format('%s is out of range %s-%s', v_n, v_lo[i], v_hi[i]);
                EXIT items;
              END IF;
              v_numbers := v_numbers || v_n;
            END LOOP;
            v_first := v_numbers[1];
            IF cardinality(v_numbers) = 2 THEN
              v_last := v_numbers[2];
              IF v_first > v_last THEN
                v_problem := format('range %s goes backwards', v_base);
                EXIT items;
              END IF;
            ELSIF v_step IS NOT NULL THEN
              v_last := CASE WHEN i = 6 THEN 6 ELSE v_hi[i] END;   -- a/step: from a to the last value
            ELSE
              v_last := v_first;
            END IF;
          END IF;
          FOR v IN v_first..v_last BY coalesce(v_step, 1) LOOP
            v_values := v_values || v;
          END LOOP;
        END LOOP items;

        IF v_problem IS NOT NULL THEN
          v_problem := format('rule: %s field "%s": %s', v_units[i], v_field, v_problem);
          EXIT checks;
        END IF;

        v_values := ARRAY(SELECT DISTINCT CASE WHEN i = 6 THEN x % 7 ELSE x END FROM unnest(v_values) AS x ORDER BY 1);
        CASE i
          WHEN 1 THEN v_spec.seconds := v_values;
          WHEN 2 THEN v_spec.minutes := v_values;
          WHEN 3 THEN v_spec.hours := v_values;
          WHEN 4 THEN
            v_spec.days := v_values;
            v_spec.last_day := v_last_day;
            v_spec.day_restricted := v_field !~ '^[*?]';
          WHEN 5 THEN v_spec.months := v_values;
          WHEN 6 THEN
            v_spec.weekdays := v_values;
            v_spec.last_weekdays := ARRAY(SELECT DISTINCT x FROM unnest(v_lasts) AS x ORDER BY 1);
            v_spec.nth_weekdays := ARRAY(SELECT DISTINCT x FROM unnest(v_nths) AS x ORDER BY 1);
            v_spec.weekday_restricted := v_field !~ '^[*?]';
        END CASE;
      END LOOP;
      v_spec.either_day := true;
    ELSE
      ---------------------------------------------------------- recurrence form
      SELECT array_agg(k ORDER BY k) INTO v_unknown
        FROM jsonb_object_keys(v_info) AS k
       WHERE k NOT IN ('year', 'month', 'date', 'dayOfWeek', 'hour', 'minute', 'second', 'tz',
                       'start', 'end', 'catchup', 'catchupWindow');
      IF v_unknown IS NOT NULL THEN
        v_problem := format('unknown keys %s (the recurrence form allows year, month, date, dayOfWeek, hour, minute, second, tz; the rule form needs "rule")', v_unknown);
        EXIT checks;
      END IF;
      v_spec.seconds := ARRAY[0];
      v_spec.minutes := ARRAY(SELECT generate_series(0, 59));
      v_spec.hours := ARRAY(SELECT generate_series(0, 23));
      v_spec.days := ARRAY(SELECT generate_series(1, 31));
      v_spec.months := ARRAY(SELECT generate_series(1, 12));
      v_spec.weekdays := ARRAY(SELECT generate_series(0, 6));
      v_spec.day_restricted := v_info ? 'date';
      v_spec.weekday_restricted := v_info ? 'dayOfWeek';
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
          EXIT checks;
        END IF;
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(v_value) AS e
                    WHERE jsonb_typeof(e) <> 'number'
                       OR (e #>> '{}')::numeric <> trunc((e #>> '{}')::numeric)
                       OR (e #>> '{}')::numeric NOT BETWEEN v_unit.lo AND v_unit.hi) THEN
          v_problem := format('%s must hold integers from %s to %s, got %s', v_unit.name, v_unit.lo, v_unit.hi, v_info -> v_unit.name);
          EXIT checks;
        END IF;
        v_values := ARRAY(SELECT DISTINCT (e #>> '{}')::numeric::integer FROM jsonb_array_elements(v_value) AS e ORDER BY 1);
        CASE v_unit.name
          WHEN 'year' THEN v_spec.years := v_values;
          WHEN 'month' THEN v_spec.months := ARRAY(SELECT x + 1 FROM unnest(v_values) AS x ORDER BY 1);
          WHEN 'date' THEN v_spec.days := v_values;
          WHEN 'dayOfWeek' THEN v_spec.weekdays := v_values;
          WHEN 'hour' THEN v_spec.hours := v_values;
          WHEN 'minute' THEN v_spec.minutes := v_values;
          WHEN 'second' THEN v_spec.seconds := v_values;
        END CASE;
      END LOOP;
      v_spec.last_day := false;
      v_spec.last_weekdays := '{}';
      v_spec.nth_weekdays := '{}';
      v_spec.either_day := false;
    END IF;

    ------------------------------------------------------------ common keys
    IF v_info ? 'tz' THEN
      IF jsonb_typeof(v_info -> 'tz') <> 'string' THEN
        v_problem := 'tz must be a time zone name';
        EXIT checks;
      END IF;
      BEGIN
        PERFORM now() AT TIME ZONE (v_info ->> 'tz');
      EXCEPTION WHEN others THEN
        v_problem := format('tz is not a known time zone: %s', v_info ->> 'tz');
        EXIT checks;
      END;
      v_spec.tz := v_info ->> 'tz';
    END IF;

    FOREACH v_key IN ARRAY ARRAY['start', 'end'] LOOP
      CONTINUE WHEN NOT v_info ? v_key;
      IF jsonb_typeof(v_info -> v_key) <> 'string' THEN
        v_problem := format('%s must be a time string', v_key);
        EXIT checks;
      END IF;
      v_time := v_info ->> v_key;
      IF v_time !~ '^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN
        v_problem := format('%s is not a valid time: %s', v_key, v_time);
        EXIT checks;
      END IF;
      BEGIN
        -- Read it under two zones: equal results mean the text has its own
        -- offset; otherwise it is a wall time, read in the schedule's zone.
        v_at := v_time::timestamptz;
        PERFORM set_config('TimeZone', 'Etc/GMT+5', true);
        v_other := v_time::timestamptz;
        PERFORM set_config('TimeZone', 'UTC', true);
        IF v_at <> v_other THEN
          v_at := v_time::timestamp AT TIME ZONE coalesce(v_spec.tz, 'UTC');
        END IF;
      EXCEPTION WHEN others THEN
        v_problem := format('%s is not a valid time: %s', v_key, v_time);
        EXIT checks;
      END;
      IF v_key = 'start' THEN
        v_spec.starts_at := v_at;
      ELSE
        v_spec.ends_at := v_at;
      END IF;
    END LOOP;
    IF v_spec.starts_at >= v_spec.ends_at THEN
      v_problem := format('start (%s) must be before end (%s)', v_info ->> 'start', v_info ->> 'end');
      EXIT checks;
    END IF;

    IF v_info ? 'catchup' AND (jsonb_typeof(v_info -> 'catchup') <> 'string'
                               OR v_info ->> 'catchup' NOT IN ('latest', 'backfill')) THEN
      v_problem := format('catchup must be "latest" or "backfill", got %s', v_info -> 'catchup');
      EXIT checks;
    END IF;
    v_spec.catchup := coalesce(v_info ->> 'catchup', 'latest');
    IF v_info ? 'catchupWindow' THEN
      IF jsonb_typeof(v_info -> 'catchupWindow') <> 'string' THEN
        v_problem := format('catchupWindow must be an interval such as "1 hour", got %s', v_info -> 'catchupWindow');
        EXIT checks;
      END IF;
      BEGIN
        v_window := (v_info ->> 'catchupWindow')::interval;
      EXCEPTION WHEN others THEN
        v_problem := format('catchupWindow must be an interval such as "1 hour", got %s', v_info -> 'catchupWindow');
        EXIT checks;
      END;
      IF v_window <= interval '0' THEN
        v_problem := format('catchupWindow must be positive, got %s', v_info -> 'catchupWindow');
        EXIT checks;
      END IF;
      v_spec.catchup_window := v_window;
    END IF;
  END checks;

  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION 'INVALID_SCHEDULE_INFO'
      USING DETAIL = v_problem, ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN v_spec;
END;
$$;

COMMENT ON FUNCTION app_jobs.parse_schedule_info(json) IS
  'Check and compile a schedule_info (rule or recurrence form); raises INVALID_SCHEDULE_INFO naming the bad key or cron field';

REVOKE EXECUTE ON FUNCTION app_jobs.parse_schedule_info(json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.parse_schedule_info(json) TO administrator;

COMMIT;
