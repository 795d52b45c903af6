-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_tz_transition to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- The first instant in (lo, hi] at which zone tz's UTC offset differs from
-- its offset at lo: a daylight-saving (or other) transition.  NULL when the
-- offset at hi equals the one at lo.  Assumes at most one transition
-- between lo and hi (callers look a few hours around a point); binary
-- search on whole seconds, about 15 steps for a few hours.
CREATE FUNCTION app_jobs.schedule_tz_transition(
  tz text,
  lo timestamptz,
  hi timestamptz
)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_offset constant interval := (lo AT TIME ZONE tz) - (lo AT TIME ZONE 'UTC');
  v_lo bigint := floor(extract(epoch FROM lo))::bigint;
  v_hi bigint := ceil(extract(epoch FROM hi))::bigint;
  v_mid bigint;
  v_at timestamptz;
BEGIN
  IF (hi AT TIME ZONE tz) - (hi AT TIME ZONE 'UTC') = v_offset THEN
    RETURN NULL;
  END IF;
  WHILE v_hi - v_lo > 1 LOOP
    v_mid := v_lo + (v_hi - v_lo) / 2;
    v_at := to_timestamp(v_mid);
    IF (v_at AT TIME ZONE tz) - (v_at AT TIME ZONE 'UTC') = v_offset THEN
      v_lo := v_mid;
    ELSE
      v_hi := v_mid;
    END IF;
  END LOOP;
  RETURN to_timestamp(v_hi);
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_tz_transition(text, timestamptz, timestamptz) IS
  'Internal: the first instant in (lo, hi] where the UTC offset of tz changes, or NULL';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_tz_transition(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_tz_transition(text, timestamptz, timestamptz) TO administrator;

COMMIT;
