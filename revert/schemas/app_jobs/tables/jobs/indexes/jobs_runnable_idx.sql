-- Revert pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_runnable_idx from pg

BEGIN;

DROP INDEX app_jobs.jobs_runnable_idx;

COMMIT;
