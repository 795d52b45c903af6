//! The `pgpm_migrate` registry: the record of what is deployed, kept exactly
//! as pgpm (`@pgpmjs/core` 7.x) keeps it, so that a database can move between
//! pgpm and jobsctl (docs/registry.md).
//!
//! - [`install`] creates or upgrades it from the SQL files in `migrations/`:
//!   pgpm's schema, tables and routines (created only where missing) and
//!   jobsctl's bookkeeping table `pgpm_migrate.jobsctl_migrations`.
//! - [`deployed_changes`], [`events`], [`dependents`], [`exists`] read it;
//!   they never create it.
//! - [`record_deploy`], [`record_revert`] and [`record_event`] write it inside
//!   the caller's transaction. Deploys and reverts are checked in Rust with
//!   pgpm's rules and messages, then written by pgpm's own procedures without
//!   a script (see `record.rs`).
//!
//! Timestamps are RFC 3339 text in UTC with microseconds
//! (`2025-08-26T23:57:44.123456Z`), formatted by the server.

mod error;
mod install;
mod read;
mod record;

pub use error::RegistryError;
pub use install::{
    INSTALL_LOCK_KEY, InstallOutcome, MIGRATIONS, Migration, exists, has_legacy_registry, install,
    pending_migrations,
};
pub use read::{deployed_changes, events};
pub use record::{
    PlannedRecord, check_deploys, dependents, deploy_call, quote_literal, record_deploy,
    record_event, record_replace, record_revert,
};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The registry's schema, shared with pgpm.
pub const SCHEMA: &str = "pgpm_migrate";

/// The schema pgpm used before it was renamed (late 2025, when the tool was
/// still LaunchQL). Neither pgpm 7.x nor jobsctl reads it.
pub const LEGACY_SCHEMA: &str = "launchql_migrate";

/// jobsctl's own table in [`SCHEMA`]: which registry migrations ran.
pub const BOOKKEEPING_TABLE: &str = "jobsctl_migrations";

/// pgpm's `change_id`: lower-case hex SHA-256 of `package || change_name ||
/// script_hash`, no separators.
///
/// pgpm computes it in SQL as `sha256((...)::bytea)`; that text-to-bytea
/// cast reads backslashes as escapes, so the two agree for every name
/// without a backslash (which change, project and hash names cannot contain).
pub fn change_id(package: &str, change_name: &str, script_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(package.as_bytes());
    hasher.update(change_name.as_bytes());
    hasher.update(script_hash.as_bytes());
    hex(&hasher.finalize())
}

/// Lower-case hex SHA-256, as pgpm stores `script_hash`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// One row of `pgpm_migrate.changes`, with its requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployedChange {
    pub package: String,
    pub change_name: String,
    pub change_id: String,
    pub script_hash: String,
    /// RFC 3339, UTC, microseconds: `2025-08-26T23:57:44.123456Z`.
    pub deployed_at: String,
    /// As stored (`package:change`, or a bare local name if pgpm was given
    /// one), sorted.
    pub requires: Vec<String>,
}

/// `pgpm_migrate.events.event_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Deploy,
    Revert,
    Verify,
}

impl EventKind {
    /// The registry's value: `deploy`, `revert` or `verify`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deploy => "deploy",
            EventKind::Revert => "revert",
            EventKind::Verify => "verify",
        }
    }

    pub fn parse(value: &str) -> Option<EventKind> {
        match value {
            "deploy" => Some(EventKind::Deploy),
            "revert" => Some(EventKind::Revert),
            "verify" => Some(EventKind::Verify),
            _ => None,
        }
    }
}

/// One row of `pgpm_migrate.events`. A failure has an error message and
/// code (SQLSTATE; pgpm also writes `VERIFICATION_FAILED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub event_id: i32,
    pub event_type: EventKind,
    pub package: String,
    pub change_name: String,
    /// RFC 3339, UTC, microseconds.
    pub occurred_at: String,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_id_is_the_sha256_of_the_plain_concatenation() {
        // printf '%s' 'pgpm-jobsschemas/app_jobs/schemaabc123' | sha256sum
        assert_eq!(
            change_id("pgpm-jobs", "schemas/app_jobs/schema", "abc123"),
            "befd87b68d529f05878e42bc5e2e8784a8005ec020f366e4c06a24ce3b0dd58e"
        );
        assert_eq!(change_id("ab", "c", ""), change_id("a", "bc", ""));
    }

    #[test]
    fn event_kinds_are_the_registry_values() {
        for kind in [EventKind::Deploy, EventKind::Revert, EventKind::Verify] {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(EventKind::parse("fail"), None);
    }
}
