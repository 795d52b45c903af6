-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_last to pg
-- requires: schemas/app_jobs/procedures/schedule_spec_next

BEGIN;

-- The latest slot of a compiled schedule in (lo, hi], or NULL when there
-- is none.  Used for the "latest" catch-up: after downtime only the most
-- recent missed slot fires.  Cheap when at most one slot is in the range
-- (two schedule_spec_next calls).  Otherwise it gallops back from hi
-- (1 s, 2 s, 4 s, ...) until a slot lies in the window, then bisects down
-- to one second: O(log(hi - lo)) calls, never one call per missed slot.
CREATE FUNCTION app_jobs.schedule_spec_last(
  spec app_jobs.schedule_spec,
  lo timestamptz,
  hi timestamptz
)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_first timestamptz := app_jobs.schedule_spec_next(spec, lo);
  v_second timestamptz;
  v_step interval := interval '1 second';
  v_low timestamptz;
  v_high timestamptz := hi;
  v_mid timestamptz;
  v_next timestamptz;
BEGIN
  IF v_first IS NULL OR v_first > hi THEN
    RETURN NULL;
  END IF;
  v_second := app_jobs.schedule_spec_next(spec, v_first);
  IF v_second IS NULL OR v_second > hi THEN
    RETURN v_first;
  END IF;
  -- invariant: next(v_low) <= hi < next(v_high)
  LOOP
    v_low := hi - v_step;
    IF v_low <= v_first THEN
      v_low := v_first;
      EXIT;
    END IF;
    v_next := app_jobs.schedule_spec_next(spec, v_low);
    EXIT WHEN v_next <= hi;
    v_high := v_low;
    v_step := v_step * 2;
  END LOOP;
  WHILE v_high - v_low > interval '1 second' LOOP
    v_mid := v_low + (v_high - v_low) / 2;
    v_next := app_jobs.schedule_spec_next(spec, v_mid);
    IF v_next IS NOT NULL AND v_next <= hi THEN
      v_low := v_mid;
    ELSE
      v_high := v_mid;
    END IF;
  END LOOP;
  RETURN app_jobs.schedule_spec_next(spec, v_low);
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamptz, timestamptz) IS
  'Internal: the latest slot of a compiled schedule in (lo, hi], or NULL';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamptz, timestamptz) TO administrator;

COMMIT;
