-- Deploy pgpm-jobs:schemas/app_jobs/schema to pg
-- requires: pgpm-verify:@0.1.0
-- requires: pgpm-default-roles:@0.0.5

BEGIN;

CREATE SCHEMA app_jobs;

COMMENT ON SCHEMA app_jobs IS 'Background jobs, scheduled jobs and named serial queues (pgpm-jobs)';

-- Workers and administration run as administrator; every object grants
-- what it needs on top.  anonymous and authenticated get nothing here:
-- see docs/app_jobs.md, "Privilege model".
GRANT USAGE ON SCHEMA app_jobs TO administrator;

COMMIT;
