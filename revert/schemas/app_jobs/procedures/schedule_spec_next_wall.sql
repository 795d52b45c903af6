-- Revert pgpm-jobs:schemas/app_jobs/procedures/schedule_spec_next_wall from pg

BEGIN;

DROP FUNCTION app_jobs.schedule_spec_next_wall(app_jobs.schedule_spec, timestamp);

COMMIT;
