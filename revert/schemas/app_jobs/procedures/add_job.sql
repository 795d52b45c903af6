-- Revert pgpm-jobs:schemas/app_jobs/procedures/add_job from pg

BEGIN;

DROP FUNCTION app_jobs.add_job(uuid, text, json, text, text, timestamptz, integer, integer);

COMMIT;
