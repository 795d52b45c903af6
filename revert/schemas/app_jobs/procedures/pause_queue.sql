-- Revert pgpm-jobs:schemas/app_jobs/procedures/pause_queue from pg

BEGIN;

DROP FUNCTION app_jobs.pause_queue(text);

COMMIT;
