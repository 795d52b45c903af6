-- Deploy pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_unlocked_idx to pg
-- requires: schemas/app_jobs/tables/scheduled_jobs/table

BEGIN;

-- get_scheduled_job claims in (priority, id) order among unlocked definitions.
CREATE INDEX scheduled_jobs_unlocked_idx ON app_jobs.scheduled_jobs (priority, id) WHERE locked_at IS NULL;

COMMIT;
