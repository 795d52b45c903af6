//! A script that failed on the server, told the way a DBA needs it: package,
//! change, file, line and column (PostgreSQL's position mapped back to the
//! file), SQLSTATE, message, detail, hint and context.

use crate::package::SqlFile;
use crate::script::Statement;
use postgres::error::ErrorPosition;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct ScriptFailure {
    pub package: String,
    pub change: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// None when the server did not answer (a lost connection, say).
    pub sqlstate: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// PostgreSQL's `CONTEXT` (e.g. the PL/pgSQL line that raised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// A lock wait that ran out (SQLSTATE 55P03) under a change lock
    /// timeout: the attempts and who blocked the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_wait: Option<super::lock_wait::LockWait>,
}

impl ScriptFailure {
    /// Map an error from running `file` (the whole executable text, or only
    /// `statement` of it when given) to a located failure.
    pub fn new(
        package: &str,
        change: &str,
        file: &SqlFile,
        statement: Option<&Statement>,
        error: &postgres::Error,
    ) -> ScriptFailure {
        Self::located(package, change, file, statement, 0, error)
    }

    /// As [`ScriptFailure::new`] for the whole executable text sent after
    /// `shift` characters of jobsctl's own (a `BEGIN;`).
    pub fn shifted(
        package: &str,
        change: &str,
        file: &SqlFile,
        shift: usize,
        error: &postgres::Error,
    ) -> ScriptFailure {
        Self::located(package, change, file, None, shift, error)
    }

    fn located(
        package: &str,
        change: &str,
        file: &SqlFile,
        statement: Option<&Statement>,
        shift: usize,
        error: &postgres::Error,
    ) -> ScriptFailure {
        let mut failure = ScriptFailure {
            package: package.to_owned(),
            change: change.to_owned(),
            path: file.display_path.clone(),
            line: None,
            column: None,
            sqlstate: None,
            message: error.to_string(),
            detail: None,
            hint: None,
            context: None,
            lock_wait: None,
        };
        let Some(db) = error.as_db_error() else {
            return failure;
        };
        let position = match db.position() {
            Some(ErrorPosition::Original(offset)) => {
                let offset = (*offset as usize).saturating_sub(shift).max(1);
                Some(match statement {
                    Some(statement) => file.script.line_col_in_statement(statement, offset),
                    None => file.script.line_col(offset),
                })
            }
            // The error is inside a query built by a function: the context says where.
            Some(ErrorPosition::Internal { .. }) | None => statement.map(|s| (s.line, s.column)),
        };
        failure.line = position.map(|p| p.0);
        failure.column = position.map(|p| p.1);
        failure.sqlstate = Some(db.code().code().to_owned());
        failure.message = db.message().to_owned();
        failure.detail = db.detail().map(str::to_owned);
        failure.hint = db.hint().map(str::to_owned);
        failure.context = db.where_().map(str::to_owned);
        failure
    }

    /// `package:change`
    pub fn change_ref(&self) -> String {
        format!("{}:{}", self.package, self.change)
    }
}

impl fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.change_ref(), self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        match &self.sqlstate {
            Some(code) => write!(f, ": {} [SQLSTATE {code}]", self.message)?,
            None => write!(f, ": {}", self.message)?,
        }
        for (label, value) in [
            ("detail", &self.detail),
            ("hint", &self.hint),
            ("context", &self.context),
        ] {
            if let Some(value) = value {
                write!(f, "\n  {label}: {}", value.replace('\n', "\n    "))?;
            }
        }
        if let Some(wait) = &self.lock_wait {
            write!(
                f,
                "\n  blocked by: {}",
                crate::db::blockers::describe_all(&wait.blockers)
            )?;
            if let Some(blocker) = wait.blockers.first()
                && let Some(what) = &blocker.waiting_for
            {
                write!(f, "\n  waiting for: {what}")?;
            }
            match &wait.not_retried {
                Some(why) => write!(f, "\n  not retried: {why}")?,
                None => write!(
                    f,
                    "\n  gave up after {}{}",
                    crate::text::plural(wait.attempts as usize, "attempt"),
                    wait.lock_timeout_ms
                        .map(|ms| format!(" of {ms} ms each (lock_timeout)"))
                        .unwrap_or_default()
                )?,
            }
        }
        Ok(())
    }
}
