-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/grants/grant_select_insert_update_delete_to_administrator to pg
-- requires: schemas/app_jobs/tables/jobs/table

BEGIN;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE app_jobs.jobs TO administrator;
-- the identity sequence of id (plain INSERTs with the default id, setval by admins)
GRANT USAGE ON SEQUENCE app_jobs.jobs_id_seq TO administrator;

COMMIT;
