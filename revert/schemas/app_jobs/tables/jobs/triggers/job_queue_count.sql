-- Revert pgpm-jobs:schemas/app_jobs/tables/jobs/triggers/job_queue_count from pg

BEGIN;

DROP TRIGGER job_queue_count_on_truncate ON app_jobs.jobs;
DROP TRIGGER job_queue_count_on_update ON app_jobs.jobs;
DROP TRIGGER job_queue_count_on_delete ON app_jobs.jobs;
DROP TRIGGER job_queue_count_on_insert ON app_jobs.jobs;

COMMIT;
