//! What can go wrong before and while talking to the server. No message
//! ever contains a password: connection strings are never echoed whole,
//! only the offending option's name (and its value, unless it is the
//! password).

use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A connection string, `DATABASE_URL` or a `PG*` variable is invalid.
    /// `origin` names where the bad value came from.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },

    /// The password file exists but cannot be read.
    #[error("password file \"{}\": {message}", path.display())]
    PasswordFile { path: PathBuf, message: String },

    /// TLS cannot be set up as asked (a missing or unreadable root
    /// certificate file, no system roots, ...).
    #[error("{target}: {message}")]
    Tls { target: String, message: String },

    /// The name given to `--createdb` cannot be a database name.
    #[error("invalid database name {name:?}: {reason}")]
    InvalidDatabaseName { name: String, reason: String },

    /// No host of the list accepted the connection. `message` lists every
    /// attempt; `error` is the last one.
    #[error("could not connect to {target}: {message}")]
    Connect {
        target: String,
        message: String,
        error: postgres::Error,
    },

    /// The cancel request could not be delivered.
    #[error("could not send a cancel request to {target}: {message}")]
    Cancel {
        target: String,
        message: String,
        error: postgres::Error,
    },

    /// A statement that this module runs itself (`CREATE DATABASE`, ...)
    /// failed on a working connection.
    #[error("{action} on {target} failed: {message}")]
    Query {
        action: String,
        target: String,
        message: String,
        error: postgres::Error,
    },
}

impl DbError {
    /// True for usage, configuration and connection errors (exit code 2:
    /// nothing was run); false when a statement ran and failed.
    pub fn is_configuration(&self) -> bool {
        !matches!(self, DbError::Query { .. })
    }

    /// The SQLSTATE, when the server answered with one.
    pub fn sqlstate(&self) -> Option<&str> {
        self.postgres_error()?.code().map(|c| c.code())
    }

    /// The server's error (message, detail, hint, ...), when it sent one.
    pub fn server_error(&self) -> Option<&postgres::error::DbError> {
        self.postgres_error()?.as_db_error()
    }

    /// The underlying client error of a failed connection, cancel or
    /// statement.
    pub fn postgres_error(&self) -> Option<&postgres::Error> {
        match self {
            DbError::Connect { error, .. }
            | DbError::Cancel { error, .. }
            | DbError::Query { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn invalid(origin: impl Into<String>, message: impl Into<String>) -> DbError {
        DbError::Invalid {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

/// A failed statement as `message [SQLSTATE xxxxx]`, with the detail and
/// hint when the server gave them; the client library's text for
/// connection errors.
pub fn describe_error(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{} [SQLSTATE {}]", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                let _ = write!(text, "; detail: {detail}");
            }
            if let Some(hint) = db.hint() {
                let _ = write!(text, "; hint: {hint}");
            }
            text
        }
        None => error.to_string(),
    }
}

/// A client error as one readable line: tokio-postgres' own `Display`
/// says only "db error" or "error connecting to server", the useful part
/// is in the source chain.
pub(crate) fn explain(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            let _ = write!(text, " (DETAIL: {detail})");
        }
        if let Some(hint) = db.hint() {
            let _ = write!(text, " (HINT: {hint})");
        }
        return text;
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}
