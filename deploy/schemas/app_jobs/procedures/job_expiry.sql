-- Deploy pgpm-jobs:schemas/app_jobs/procedures/job_expiry to pg
-- requires: schemas/app_jobs/schema

BEGIN;

-- The one configurable lock expiry.  After this long a job lock (and the
-- named-queue lock taken with it) counts as abandoned: get_job recovers the
-- job, and the admin functions may act on it.  Configure it like any
-- setting, e.g.
--   ALTER DATABASE mydb SET app_jobs.job_expiry = '30 minutes';
--   SET app_jobs.job_expiry = '10 minutes';            -- one session
-- Unset or empty means 4 hours.  get_job and run_scheduled_job take their
-- own job_expiry argument and fall back to this setting when it is NULL.
CREATE FUNCTION app_jobs.job_expiry()
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_setting text := pg_catalog.current_setting('app_jobs.job_expiry', true);
  v_expiry interval;
BEGIN
  IF v_setting IS NULL OR pg_catalog.btrim(v_setting) = '' THEN
    RETURN interval '4 hours';
  END IF;
  v_expiry := v_setting::interval;
  IF v_expiry < interval '0' THEN
    RAISE EXCEPTION 'app_jobs.job_expiry must not be negative, got %', v_setting
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN v_expiry;
END;
$$;

COMMENT ON FUNCTION app_jobs.job_expiry() IS
  'Lock expiry used by the admin functions and by get_job/run_scheduled_job when their job_expiry argument is NULL: setting app_jobs.job_expiry, default 4 hours.';

REVOKE EXECUTE ON FUNCTION app_jobs.job_expiry() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_jobs.job_expiry() TO administrator;

COMMIT;
