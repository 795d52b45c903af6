-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_next from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_spec_next(app_jobs.schedule_spec, timestamptz);

COMMIT;
