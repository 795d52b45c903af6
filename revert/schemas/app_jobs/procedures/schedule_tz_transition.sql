-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_tz_transition from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_tz_transition(text, timestamptz, timestamptz);

COMMIT;
