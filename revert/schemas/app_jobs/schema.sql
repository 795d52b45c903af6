-- Revert pgpm-jobs:schemas/app_jobs/schema from pg

BEGIN;

-- No CASCADE: every object in the schema has its own revert, so anything
-- left here was not created by this package and must not be dropped silently.
REVOKE USAGE ON SCHEMA app_jobs FROM administrator;
DROP SCHEMA app_jobs;

COMMIT;
