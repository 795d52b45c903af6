-- Revert pgpm-jobs:schemas/app_jobs/triggers/tg_apply_job_queue_count from pg

BEGIN;

DROP FUNCTION app_jobs.tg_apply_job_queue_count();

COMMIT;
