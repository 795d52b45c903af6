-- Revert pgpm-jobs:schemas/app_jobs/triggers/tg_update_job_queue_count from pg

BEGIN;

DROP FUNCTION app_jobs.tg_update_job_queue_count();

COMMIT;
