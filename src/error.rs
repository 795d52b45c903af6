//! The top-level error: what went wrong and which exit code it means. The
//! one place that maps errors to exit codes; library modules return typed
//! errors and never import this module.

use crate::package::Problems;

/// Exit codes, as documented in `--help` and the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INTERRUPTED: u8 = crate::interrupt::EXIT_CODE;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The workspace could not be read or checked; nothing ran.
    #[error("{workspace}: {} found; nothing was run", crate::text::plural(problems.0.len(), "problem"))]
    InvalidWorkspace {
        workspace: String,
        problems: Problems,
    },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Engine(#[from] crate::engine::Error),
    /// The lock report could not be made.
    #[error(transparent)]
    Locks(#[from] crate::locks::Error),
    /// `status --exit-code` found pending or drifted changes.
    #[error("pending or drifted changes")]
    NotClean,
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The generator (init, add, tag, export, bundle) could not write a
    /// file or folder; what was written before stays.
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    /// jobsctl.toml is malformed or names something that is not there.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// `jobsctl dev`: the dev cluster could not be made, started or stopped,
    /// or is not running.
    #[error(transparent)]
    Dev(#[from] crate::dev::DevError),
    /// The outcome was reported already (e.g. `dev status` of a stopped
    /// cluster): exit with this code and print nothing more.
    #[error("exit {0}")]
    Exit(u8),
    /// Lint findings that are errors (all of them with --strict) stopped
    /// `plan` or `deploy` before anything ran.
    #[error("{} (lint); nothing was run", crate::text::plural(findings.len(), "finding"))]
    Lint { findings: Vec<crate::lint::Finding> },
    /// An error with a suggestion of what to do about it.
    #[error("{error}")]
    WithHint { error: Box<Error>, hint: String },
}

/// The generator's errors are the top's own kinds.
impl From<crate::scaffold::Error> for Error {
    fn from(error: crate::scaffold::Error) -> Error {
        use crate::scaffold::Error as Scaffold;
        match error {
            Scaffold::Usage(message) => Error::Usage(message),
            Scaffold::Write { path, message } => Error::Write { path, message },
            Scaffold::InvalidWorkspace {
                workspace,
                problems,
            } => Error::InvalidWorkspace {
                workspace,
                problems,
            },
        }
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidWorkspace { .. } | Error::Usage(_) | Error::Config(_) => exit::USAGE,
            Error::Engine(crate::engine::Error::Interrupted) => exit::INTERRUPTED,
            Error::Engine(e) if e.is_usage() => exit::USAGE,
            Error::Engine(_) => exit::FAILED,
            Error::Locks(e) if e.is_usage() => exit::USAGE,
            Error::Locks(_) => exit::FAILED,
            Error::Dev(e) if e.is_setup() => exit::USAGE,
            Error::Dev(_) => exit::FAILED,
            Error::Exit(code) => *code,
            Error::WithHint { error, .. } => error.exit_code(),
            Error::NotClean | Error::Output(_) | Error::Write { .. } | Error::Lint { .. } => {
                exit::FAILED
            }
        }
    }

    /// Output could not be written because its reader went away
    /// (`jobsctl plan | head -5`): not an error to report, but the end of
    /// the run, as in ripgrep.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Output(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            Error::WithHint { error, .. } => error.is_broken_pipe(),
            _ => false,
        }
    }

    /// A stable name for JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidWorkspace { .. } => "invalid_workspace",
            Error::Usage(_) => "usage",
            Error::Engine(e) => e.kind(),
            Error::Locks(e) => e.kind(),
            Error::NotClean => "not_clean",
            Error::Lint { .. } => "lint",
            Error::Output(_) => "output",
            Error::Write { .. } => "write",
            Error::Config(_) => "config",
            Error::Dev(e) => e.kind(),
            Error::Exit(_) => "exit",
            Error::WithHint { error, .. } => error.kind(),
        }
    }
}
