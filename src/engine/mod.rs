//! What jobsctl does to a database. Planning is pure (`plan`, `state`,
//! `target`); the plan holds each change's scripts, so nothing is looked up
//! by name afterwards. `session` is the prologue `deploy`, `revert`,
//! `verify` and `status` share (the deploy lock where they change anything,
//! the connection, the registry compared with the plan); `execute` is the
//! one place that runs scripts, with `lock_wait` for its change lock
//! timeout and retries (docs/locks.md).

pub mod deploy;
pub mod execute;
pub mod failure;
pub mod lock;
pub mod lock_wait;
pub mod plan;
pub mod revert;
pub mod session;
pub mod state;
pub mod status;
pub mod target;
pub mod verify;

use crate::db::DbError;
use crate::registry::RegistryError;
use crate::text::{agree, plural, plural_s};
use failure::ScriptFailure;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("registry: {0}")]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Query(String),
    #[error("gave up waiting for the deploy lock after {:.1} s{}", waited.as_secs_f64(), holder.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    LockTimeout {
        waited: Duration,
        holder: Option<String>,
    },
    #[error("{} differ{} from the local deploy script; nothing was deployed (rerun with --accept-drift to deploy anyway, or --replace-drift to deploy the local scripts in their place)", plural(drift.len(), "deployed change"), agree(drift.len(), "s", ""))]
    Drift { drift: Vec<Drift> },
    #[error("{} of installed modules cannot be kept: the local verify script{} fail{} against what is deployed; nothing was deployed (rerun with --replace-drift to deploy the local scripts in their place)", plural(drift.len(), "drifted change"), plural_s(failures.len()), agree(failures.len(), "s", ""))]
    DriftUnverified {
        drift: Vec<Drift>,
        failures: Vec<ScriptFailure>,
    },
    #[error("{}; nothing was deployed: install {} on the server, or remove {} from the control file's `requires`", missing.iter().map(|(p, e)| format!("package {p} requires the extension {e}, which this server does not have (not in pg_available_extensions)")).collect::<Vec<_>>().join("; "), agree(missing.len(), "it", "them"), agree(missing.len(), "it", "them"))]
    MissingExtensions { missing: Vec<(String, String)> },
    #[error("{0}")]
    ChangeFailed(Box<ScriptFailure>),
    #[error("{} failed", plural(failures.len(), "verify script"))]
    VerifyFailed { failures: Vec<ScriptFailure> },
    #[error("nothing is deployed in {database}: there is nothing to verify")]
    NothingDeployed { database: String },
    #[error("cannot revert {change}: deployed change{} {} require{} it; revert {} too (e.g. without --package, or with --to)", plural_s(dependents.len()), dependents.join(", "), agree(dependents.len(), "s", ""), agree(dependents.len(), "it", "them"))]
    RevertBlocked {
        change: String,
        dependents: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
    #[error("interrupted: the open transaction was rolled back and the deploy lock released")]
    Interrupted,
}

/// What a deploy does when a deployed change's script differs from the
/// local one (docs/pgpm-compat.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftPolicy {
    /// Stop before anything runs.
    Error,
    /// Keep what is deployed when the local verify scripts pass against it,
    /// and say so; stop when one fails.
    Warn,
    /// Deploy the local scripts in its place: the local revert script, then
    /// the deploy script, and the registry row rewritten, in one
    /// transaction per change.
    Replace,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub package: String,
    pub change: String,
    pub deployed_hash: String,
    pub local_hash: String,
    pub path: String,
}

impl Error {
    /// Usage or configuration (flags, connection settings, an unreachable
    /// server): nothing was run. The top maps it to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Db(e) => e.is_configuration(),
            Error::Usage(_) => true,
            _ => false,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Error::Db(_) => "database",
            Error::Registry(_) => "registry",
            Error::Query(_) => "query",
            Error::LockTimeout { .. } => "lock_timeout",
            Error::Drift { .. } => "drift",
            Error::DriftUnverified { .. } => "drift_unverified",
            Error::MissingExtensions { .. } => "missing_extension",
            Error::ChangeFailed(_) => "change_failed",
            Error::VerifyFailed { .. } => "verify_failed",
            Error::NothingDeployed { .. } => "nothing_deployed",
            Error::RevertBlocked { .. } => "revert_blocked",
            Error::Usage(_) => "usage",
            Error::Interrupted => "interrupted",
        }
    }

    fn lock(error: postgres::Error) -> Error {
        Error::Query(format!("taking the deploy lock: {error}"))
    }

    /// A failed statement of jobsctl's own (not a user script).
    pub fn query(doing: &str, error: postgres::Error) -> Error {
        if crate::interrupt::is_interrupted() {
            return Error::Interrupted;
        }
        match error.as_db_error() {
            Some(db) => Error::Query(format!(
                "{doing}: {} [SQLSTATE {}]",
                db.message(),
                db.code().code()
            )),
            None => Error::Query(format!("{doing}: {error}")),
        }
    }
}

/// How much one transaction holds in deploy and revert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxScope {
    /// One transaction per change (the default).
    Change,
    /// One transaction per package.
    Package,
    /// One transaction for the whole run; a change that must run outside a
    /// transaction commits what came before it.
    All,
}

/// What happened to one change in a run.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeResult {
    pub package: String,
    pub change: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// `transaction` or `none` (ran statement by statement outside one).
    pub transaction: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Deployed,
    /// A drifted change deployed again from the local scripts: its local
    /// revert script, then its deploy script (`--replace-drift`).
    Replaced,
    /// Recorded without running its script (`--log-only`).
    Logged,
    Reverted,
    Verified,
    Failed,
    /// Ran, but its transaction was rolled back by a later failure.
    RolledBack,
    /// Would run (`--dry-run`).
    Planned,
}

/// Progress reported while a run goes on.
pub enum Progress<'a> {
    /// Waiting for another deployer's lock.
    Waiting {
        holder: Option<String>,
        waited: Duration,
    },
    Note(String),
    /// Drifted changes of a package kept as deployed: their deploy scripts
    /// differ from the local ones, their local verify scripts pass.
    KeptDrift {
        package: String,
        drift: Vec<Drift>,
    },
    Change(&'a ChangeResult),
    /// A change gave up waiting for a lock and runs again after a pause.
    LockRetry(lock_wait::LockRetry),
}
