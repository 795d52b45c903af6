-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_database_id_key_idx to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- Scheduled job keys are unique per tenant (add_scheduled_job upserts on it).
CREATE UNIQUE INDEX scheduled_jobs_database_id_key_idx ON app_jobs.scheduled_jobs (database_id, key) WHERE key IS NOT NULL;

COMMIT;
