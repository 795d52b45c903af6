-- Revert pgpm-jobs:schemas/app_jobs/tables/jobs/indexes/jobs_queued_runnable_idx from pg

BEGIN;

DROP INDEX app_jobs.jobs_queued_runnable_idx;

COMMIT;
