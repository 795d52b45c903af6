-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_last from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_spec_last(app_jobs.schedule_spec, timestamptz, timestamptz);

COMMIT;
