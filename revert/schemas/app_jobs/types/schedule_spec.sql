-- Revert pgpm-jobs:schemas/app_jobs/types/schedule_spec from pg

BEGIN;

DROP TYPE app_jobs.schedule_spec;

COMMIT;
