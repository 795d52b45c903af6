-- Verify pgpm-jobs:schemas/app_jobs/tables/job_queues/grants/grant_select_insert_update_delete_to_administrator on pg

BEGIN;

SELECT verify_table_grant('app_jobs.job_queues', 'SELECT', 'administrator');
SELECT verify_table_grant('app_jobs.job_queues', 'INSERT', 'administrator');
SELECT verify_table_grant('app_jobs.job_queues', 'UPDATE', 'administrator');
SELECT verify_table_grant('app_jobs.job_queues', 'DELETE', 'administrator');

ROLLBACK;
