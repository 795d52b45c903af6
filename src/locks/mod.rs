//! Locks that migrations take, measured rather than guessed: [`report`]
//! runs a plan's pending changes against a real database, in one
//! transaction that is always rolled back, and reads after each change
//! which locks its session holds on relations that existed before the run.
//!
//! The other half of lock safety, waiting for locks during a deploy (a
//! change lock timeout, retries, naming the blocker), is the engine's
//! (`engine::lock_wait`, with `db::blockers`).

pub mod report;

pub use report::{LockReport, ReportOptions, report};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening the session, reading the registry, a bad `--to`, ...
    #[error(transparent)]
    Engine(#[from] crate::engine::Error),
    /// One of the report's own statements failed.
    #[error("lock report: {doing}: {message}")]
    Query { doing: String, message: String },
}

impl Error {
    /// Usage or configuration: nothing was run.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Engine(e) => e.is_usage(),
            Error::Query { .. } => false,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Error::Engine(e) => e.kind(),
            Error::Query { .. } => "lock_report",
        }
    }

    fn query(doing: &str, error: postgres::Error) -> Error {
        Error::Query {
            doing: doing.to_owned(),
            message: crate::db::describe_error(&error),
        }
    }
}
