-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_next_wall to pg
-- requires: schemas/app_jobs/types/schedule_spec

BEGIN;

-- The first wall time (calendar date and time of day, whole seconds, no
-- zone) at or after from_wall that the schedule matches, or NULL.  Pure
-- calendar arithmetic: years not in the set are jumped over, months not in
-- the set are skipped, each day of a candidate month is checked once, and
-- within the first matching day the time of day is found from the sorted
-- hour, minute and second sets, so no second, minute or hour that cannot
-- match is ever visited.
-- Bound: at most 401 calendar years are examined (the Gregorian calendar
-- repeats every 400 years, so a pattern without a match in them never
-- matches), and nothing after 9999-12-31.
CREATE FUNCTION app_jobs.schedule_spec_next_wall(
  spec app_jobs.schedule_spec,
  from_wall timestamp
)
RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_wall timestamp := date_trunc('second', from_wall);
  v_year integer;
  v_month integer;
  v_day integer;
  v_hour integer;
  v_minute integer;
  v_second integer;
  v_next_year integer;
  v_years_seen integer := 0;
  v_days_in_month integer;
  v_first_dow integer;
  v_dow integer;
  v_dom_ok boolean;
  v_dow_ok boolean;
  v_tod integer;
  m integer;
  hh integer;
  mm integer;
  ss integer;
BEGIN
  IF NOT isfinite(from_wall) THEN
    RETURN NULL;
  END IF;
  IF v_wall < from_wall THEN
    v_wall := v_wall + interval '1 second';
  END IF;
  v_year := extract(year FROM v_wall);
  v_month := extract(month FROM v_wall);
  v_day := extract(day FROM v_wall);
  v_hour := extract(hour FROM v_wall);
  v_minute := extract(minute FROM v_wall);
  v_second := floor(extract(second FROM v_wall));
  IF v_year < 1 THEN
    v_year := 1; v_month := 1; v_day := 1; v_hour := 0; v_minute := 0; v_second := 0;
  END IF;

  LOOP
    IF spec.years IS NOT NULL AND NOT (v_year = ANY (spec.years)) THEN
      SELECT min(y) INTO v_next_year FROM unnest(spec.years) AS y WHERE y > v_year;
      IF v_next_year IS NULL THEN
        RETURN NULL;
      END IF;
      v_year := v_next_year; v_month := 1; v_day := 1; v_hour := 0; v_minute := 0; v_second := 0;
    END IF;
    v_years_seen := v_years_seen + 1;
    IF v_year > 9999 OR v_years_seen > 401 THEN
      RETURN NULL;
    END IF;

    FOREACH m IN ARRAY spec.months LOOP
      CONTINUE WHEN m < v_month;
      IF m > v_month THEN
        v_month := m; v_day := 1; v_hour := 0; v_minute := 0; v_second := 0;
      END IF;
      v_days_in_month := extract(day FROM make_date(v_year, v_month, 1) + interval '1 month' - interval '1 day');
      v_first_dow := extract(dow FROM make_date(v_year, v_month, 1));
      WHILE v_day <= v_days_in_month LOOP
        v_dom_ok := v_day = ANY (spec.days) OR (spec.last_day AND v_day = v_days_in_month);
        v_dow := (v_first_dow + v_day - 1) % 7;
        v_dow_ok := v_dow = ANY (spec.weekdays)
                    OR (v_dow = ANY (spec.last_weekdays) AND v_day + 7 > v_days_in_month)
                    OR (v_dow * 10 + (v_day - 1) / 7 + 1) = ANY (spec.nth_weekdays);
        IF (spec.either_day AND spec.day_restricted AND spec.weekday_restricted AND (v_dom_ok OR v_dow_ok))
           OR (NOT (spec.either_day AND spec.day_restricted AND spec.weekday_restricted) AND v_dom_ok AND v_dow_ok) THEN
          -- the first time of day at or after v_hour:v_minute:v_second
          v_tod := NULL;
          <<hours>>
          FOREACH hh IN ARRAY spec.hours LOOP
            CONTINUE WHEN hh < v_hour;
            FOREACH mm IN ARRAY spec.minutes LOOP
              CONTINUE WHEN hh = v_hour AND mm < v_minute;
              FOREACH ss IN ARRAY spec.seconds LOOP
                CONTINUE WHEN hh = v_hour AND mm = v_minute AND ss < v_second;
                v_tod := hh * 3600 + mm * 60 + ss;
                EXIT hours;
              END LOOP;
            END LOOP;
          END LOOP hours;
          IF v_tod IS NOT NULL THEN
            RETURN make_timestamp(v_year, v_month, v_day, 0, 0, 0) + make_interval(secs => v_tod);
          END IF;
        END IF;
        v_day := v_day + 1; v_hour := 0; v_minute := 0; v_second := 0;
      END LOOP;
      v_month := m + 1; v_day := 1; v_hour := 0; v_minute := 0; v_second := 0;
    END LOOP;

    v_year := v_year + 1; v_month := 1; v_day := 1; v_hour := 0; v_minute := 0; v_second := 0;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_spec_next_wall(app_jobs.schedule_spec, timestamp) IS
  'Internal: the first wall time at or after from_wall matching the schedule (calendar search, no zone), or NULL';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_spec_next_wall(app_jobs.schedule_spec, timestamp) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_spec_next_wall(app_jobs.schedule_spec, timestamp) TO administrator;

COMMIT;
