-- Revert pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/grants/grant_select_insert_update_delete_to_administrator from pg

BEGIN;

REVOKE USAGE ON SEQUENCE app_jobs.scheduled_jobs_id_seq FROM administrator;
REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLE app_jobs.scheduled_jobs FROM administrator;

COMMIT;
