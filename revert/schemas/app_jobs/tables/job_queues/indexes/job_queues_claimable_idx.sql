-- Revert pgpm-jobs:schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx from pg

BEGIN;

DROP INDEX app_jobs.job_queues_claimable_idx;

COMMIT;
