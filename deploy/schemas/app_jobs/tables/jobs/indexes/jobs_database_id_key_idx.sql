-- Deploy pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_database_id_key_idx to pg
-- requires: schemas/app_jobs/tables/jobs/table

BEGIN;

-- Job keys are unique per tenant.  Partial, so that the many jobs without a
-- key add nothing to it; add_job names the same predicate in ON CONFLICT.
CREATE UNIQUE INDEX jobs_database_id_key_idx ON app_jobs.jobs (database_id, key) WHERE key IS NOT NULL;

COMMIT;
