-- Verify pgpm-jobs:schemas/app_jobs/tables/jobs/grants/grant_select_insert_update_delete_to_administrator on pg

BEGIN;

SELECT verify_table_grant('app_jobs.jobs', 'SELECT', 'administrator');
SELECT verify_table_grant('app_jobs.jobs', 'INSERT', 'administrator');
SELECT verify_table_grant('app_jobs.jobs', 'UPDATE', 'administrator');
SELECT verify_table_grant('app_jobs.jobs', 'DELETE', 'administrator');

DO $$
BEGIN
  IF NOT has_sequence_privilege('administrator', pg_get_serial_sequence('app_jobs.jobs', 'id'), 'USAGE') THEN
    RAISE EXCEPTION 'administrator lacks USAGE on the id sequence of app_jobs.jobs';
  END IF;
END;
$$;

ROLLBACK;
