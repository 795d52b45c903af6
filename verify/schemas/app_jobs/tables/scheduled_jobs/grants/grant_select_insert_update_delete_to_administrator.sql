-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/grants/grant_select_insert_update_delete_to_administrator on pg

BEGIN;

SELECT verify_table_grant('app_jobs.scheduled_jobs', 'SELECT', 'administrator');
SELECT verify_table_grant('app_jobs.scheduled_jobs', 'INSERT', 'administrator');
SELECT verify_table_grant('app_jobs.scheduled_jobs', 'UPDATE', 'administrator');
SELECT verify_table_grant('app_jobs.scheduled_jobs', 'DELETE', 'administrator');

DO $$
BEGIN
  IF NOT has_sequence_privilege('administrator', pg_get_serial_sequence('app_jobs.scheduled_jobs', 'id'), 'USAGE') THEN
    RAISE EXCEPTION 'administrator lacks USAGE on the id sequence of app_jobs.scheduled_jobs';
  END IF;
END;
$$;

ROLLBACK;
