-- Deploy pgpm-jobs:schemas/app_jobs/schema to pg
-- requires: pgpm-verify:@0.1.0
-- requires: pgpm-default-roles:@0.0.5

BEGIN;

CREATE SCHEMA app_jobs;

-- Workers run as administrator; each object grants what it needs on top.
GRANT USAGE ON SCHEMA app_jobs TO administrator;

COMMIT;
