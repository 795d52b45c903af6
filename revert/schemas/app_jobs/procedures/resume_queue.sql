-- Revert pgpm-jobs:schemas/app_jobs/procedures/resume_queue from pg

BEGIN;

DROP FUNCTION app_jobs.resume_queue(text);

COMMIT;
