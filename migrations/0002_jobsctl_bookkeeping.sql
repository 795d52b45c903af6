-- jobsctl registry migration 0002: jobsctl's own bookkeeping.
--
-- One row per registry migration (a file in this folder) that ran on this
-- database. It lives in pgpm's schema so that the registry and its record
-- travel together; pgpm never reads it, and nothing here touches pgpm's
-- tables or routines.
--
-- The installer runs this in the same transaction as every earlier migration
-- when the table does not exist yet (so it can record them too); see
-- src/registry/install.rs.

CREATE TABLE IF NOT EXISTS pgpm_migrate.jobsctl_migrations (
    version       integer     PRIMARY KEY,
    name          text        NOT NULL,
    checksum      text        NOT NULL,
    installed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    installed_by  text        NOT NULL
);

COMMENT ON TABLE pgpm_migrate.jobsctl_migrations IS
    'jobsctl: its registry migrations that ran here (version, file name, SHA-256 of the file, when, which jobsctl). pgpm does not use this table.';
