-- Verify pgpm-jobs:schemas/app_jobs/schema on pg

BEGIN;

SELECT verify_schema('app_jobs');

DO $$
BEGIN
  IF NOT has_schema_privilege('administrator', 'app_jobs', 'USAGE') THEN
    RAISE EXCEPTION 'administrator lacks USAGE on schema app_jobs';
  END IF;
  IF has_schema_privilege('public', 'app_jobs', 'CREATE') THEN
    RAISE EXCEPTION 'PUBLIC may create objects in schema app_jobs';
  END IF;
END;
$$;

ROLLBACK;
