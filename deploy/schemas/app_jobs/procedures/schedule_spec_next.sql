-- Deploy pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_next to pg
-- requires: schemas/app_jobs/types/schedule_spec
-- requires: schemas/app_jobs/procedures/schedule_spec_next_wall
-- requires: schemas/app_jobs/procedures/schedule_local_instant
-- requires: schemas/app_jobs/procedures/schedule_tz_transition

BEGIN;

-- The first slot of a compiled schedule strictly after `after`, or NULL
-- when there is none (past ends_at, an impossible date, nothing within the
-- search bound of schedule_spec_next_wall).
--
-- Slots are wall times in the schedule's zone (UTC when none).  Each wall
-- time that matches maps to ONE instant: a wall time skipped by a forward
-- transition never fires, one repeated by a backward transition fires at
-- its first occurrence (app_jobs.schedule_local_instant).  These instants
-- grow with the wall time, so the search is: find the smallest wall time
-- whose instant is after `after`, then the first matching wall time from
-- there (schedule_spec_next_wall), stepping over nonexistent ones.
--   * Usually that smallest wall time is the wall time of `after` plus one
--     second.  When `after` lies in the second pass of a repeated hour,
--     the repeated wall times already fired in the first pass, so the
--     search starts where the repetition ends.
--   * A matching wall time in a skipped hour is replaced by the search
--     from the end of that hour.
-- Slots lie on whole seconds; starts_at and ends_at bound them inclusively.
CREATE FUNCTION app_jobs.schedule_spec_next(
  spec app_jobs.schedule_spec,
  after timestamptz
)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_tz constant text := coalesce(spec.tz, 'UTC');
  v_after timestamptz := after;
  v_wall timestamp;
  v_at timestamptz;
  v_switch timestamptz;
BEGIN
  IF NOT isfinite(v_after) THEN
    IF v_after > 'epoch'::timestamptz THEN
      RETURN NULL;                       -- nothing after infinity
    END IF;
    v_after := '0001-01-01 00:00:00+00';  -- "the first slot ever"
  END IF;
  IF spec.starts_at IS NOT NULL AND v_after < spec.starts_at THEN
    v_after := spec.starts_at - interval '1 microsecond';
  END IF;
  IF spec.ends_at IS NOT NULL AND v_after >= spec.ends_at THEN
    RETURN NULL;
  END IF;

  -- the smallest wall time whose instant is after v_after
  v_wall := date_trunc('second', v_after AT TIME ZONE v_tz) + interval '1 second';
  v_at := app_jobs.schedule_local_instant(v_wall, v_tz);
  IF v_at IS NOT NULL AND v_at <= v_after THEN
    -- v_after is in the second pass of a repeated hour: go to its end
    v_switch := app_jobs.schedule_tz_transition(v_tz, v_at, v_after);
    IF v_switch IS NOT NULL THEN
      v_wall := (v_switch AT TIME ZONE 'UTC') + ((v_at AT TIME ZONE v_tz) - (v_at AT TIME ZONE 'UTC'));
    END IF;
  END IF;

  FOR attempt IN 1..100 LOOP
    v_wall := app_jobs.schedule_spec_next_wall(spec, v_wall);
    IF v_wall IS NULL THEN
      RETURN NULL;
    END IF;
    v_at := app_jobs.schedule_local_instant(v_wall, v_tz);
    IF v_at IS NULL THEN
      -- a wall time skipped by a forward transition: continue where the
      -- clocks resume
      v_switch := app_jobs.schedule_tz_transition(v_tz, (v_wall AT TIME ZONE v_tz) - interval '3 hours',
                                                         (v_wall AT TIME ZONE v_tz) + interval '3 hours');
      v_wall := greatest(v_switch AT TIME ZONE v_tz, v_wall + interval '1 second');
    ELSIF v_at <= v_after THEN
      v_wall := v_wall + interval '1 second';   -- defensive; cannot happen
    ELSE
      IF spec.ends_at IS NOT NULL AND v_at > spec.ends_at THEN
        RETURN NULL;
      END IF;
      RETURN v_at;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

COMMENT ON FUNCTION app_jobs.schedule_spec_next(app_jobs.schedule_spec, timestamptz) IS
  'The first slot of a compiled schedule strictly after `after` (DST-aware), or NULL';

REVOKE EXECUTE ON FUNCTION app_jobs.schedule_spec_next(app_jobs.schedule_spec, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.schedule_spec_next(app_jobs.schedule_spec, timestamptz) TO administrator;

COMMIT;
