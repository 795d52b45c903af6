-- Revert pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_unlocked_idx from pg

BEGIN;

DROP INDEX app_jobs.scheduled_jobs_unlocked_idx;

COMMIT;
