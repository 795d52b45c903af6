-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/grants/grant_select_insert_update_delete_to_administrator to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE app_jobs.scheduled_jobs TO administrator;
-- the identity sequence of id (plain INSERTs with the default id, setval by admins)
GRANT USAGE ON SEQUENCE app_jobs.scheduled_jobs_id_seq TO administrator;

COMMIT;
