-- Verify pgpm-jobs:schemas/app_jobs/procedures/add_job/notify_inline on pg

BEGIN;

SELECT verify_function('app_jobs.add_job(uuid, text, json, text, text, timestamptz, integer, integer)', 'administrator');

-- the definition of this change: the default mode notifies inline, the
-- others through notify_jobs_insert
DO $$
DECLARE
  src constant text := (SELECT prosrc FROM pg_proc WHERE oid = 'app_jobs.add_job(uuid, text, json, text, text, timestamptz, integer, integer)'::regprocedure);
BEGIN
  IF position('pg_catalog.pg_notify(''jobs:insert''' IN src) = 0
     OR position('app_jobs.notify_jobs_insert(' IN src) = 0 THEN
    RAISE EXCEPTION 'app_jobs.add_job is not the definition of add_job/notify_inline';
  END IF;
END;
$$;

ROLLBACK;
