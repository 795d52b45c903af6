-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_local_instant to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- The instant at which the clocks of zone tz show the wall time `wall`:
-- NULL when they never do (the hour skipped when clocks go forward), and
-- the EARLIER of the two instants when they show it twice (the hour
-- repeated when clocks go back), so that a repeated wall time fires once,
-- at its first occurrence.  PostgreSQL itself reads an ambiguous wall time
-- as the later instant; the earlier one is found by looking at the offset
-- three hours before (transitions of up to three hours are handled).
CREATE FUNCTION app_jobs.schedule_local_instant(
  wall timestamp,
  tz text
)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_at constant timestamptz := wall AT TIME ZONE tz;
  v_before constant timestamptz := v_at - interval '3 hours';
  v_offset interval;
  v_offset_before interval;
  v_earlier timestamptz;
BEGIN
  IF (v_at AT TIME ZONE tz) <> wall THEN
    RETURN NULL;                      -- skipped by a forward transition
  END IF;
  v_offset := wall - (v_at AT TIME ZONE 'UTC');
  v_offset_before := (v_before AT TIME ZONE tz) - (v_before AT TIME ZONE 'UTC');
  IF v_offset_before > v_offset THEN  -- clocks went back shortly before
    v_earlier := (wall - v_offset_before) AT TIME ZONE 'UTC';
    IF (v_earlier AT TIME ZONE tz) = wall THEN
      RETURN v_earlier;
    END IF;
  END IF;
  RETURN v_at;
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_local_instant(timestamp, text) IS
  'Internal: the first instant showing wall time `wall` in zone tz; NULL when that wall time does not exist';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_local_instant(timestamp, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_local_instant(timestamp, text) TO administrator;

COMMIT;
