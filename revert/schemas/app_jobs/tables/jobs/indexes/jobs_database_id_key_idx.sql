-- Revert pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_database_id_key_idx from pg

BEGIN;

DROP INDEX app_jobs.jobs_database_id_key_idx;

COMMIT;
