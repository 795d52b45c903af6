//! The package generator: create packages and workspaces (`init`), grow a
//! plan (`add`, `tag`), write the embedded workspace out (`export`) and
//! bundle packages for `CREATE EXTENSION` or psql (`bundle`).
//!
//! Everything written is checked with the same readers `deploy` uses (the
//! plan parser, the control-file parser, the workspace loader) before or
//! right after it is written, so what jobsctl generates, jobsctl (and pgpm)
//! can read. Plans are rewritten atomically (temporary file, then rename);
//! new files are created without ever replacing a file that is there,
//! unless the command says it may.
//!
//! Errors: refusals (a bad name, a duplicate, a non-empty target, an
//! unknown dependency) are [`Error::Usage`] (exit 2); a file that cannot be
//! written is [`Error::Write`] (exit 1).

pub mod add;
pub mod bundle;
pub mod export;
pub mod init;
mod locate;
pub mod planner;

pub use locate::{find_package, find_workspace_root};

use crate::package::Problems;
use serde::Serialize;
use std::io::{self, Write as _};
use std::path::Path;

/// Why the generator stopped; what was written before stays.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal: a bad name, a duplicate, a non-empty target, an unknown
    /// dependency (exit 2 at the top).
    #[error("{0}")]
    Usage(String),
    /// A file or folder could not be written (exit 1 at the top).
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    /// What was read back (or exported) is not a valid workspace.
    #[error("{workspace}: {} found; nothing was run", crate::text::plural(problems.0.len(), "problem"))]
    InvalidWorkspace {
        workspace: String,
        problems: Problems,
    },
}

/// What happened to one file or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// It did not exist and was created.
    Created,
    /// It existed and was rewritten (a plan grown by `add` or `tag`, or a
    /// file replaced by `export --force` or `bundle`).
    Updated,
    /// It existed and was left as it was (a script `add` would have created).
    Kept,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileWritten {
    pub path: String,
    pub action: FileAction,
}

/// The files a generator command touched, in the order it touched them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Files(pub Vec<FileWritten>);

impl Files {
    fn push(&mut self, path: &Path, action: FileAction) {
        self.0.push(FileWritten {
            path: path.display().to_string(),
            action,
        });
    }
}

pub(crate) fn write_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// Create a folder and its parents.
fn create_dir(path: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(path).map_err(|e| write_error(path, e))
}

/// Create a file that must not exist yet (its folder is created).
fn write_new(path: &Path, bytes: &[u8], files: &mut Files) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| write_error(path, e))?;
    file.write_all(bytes).map_err(|e| write_error(path, e))?;
    files.push(path, FileAction::Created);
    Ok(())
}

/// Create or replace a file (not atomically: for files a command
/// generates wholesale, like an export or a bundle).
fn write_file(path: &Path, bytes: &[u8], files: &mut Files) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let existed = path.exists();
    std::fs::write(path, bytes).map_err(|e| write_error(path, e))?;
    files.push(
        path,
        if existed {
            FileAction::Updated
        } else {
            FileAction::Created
        },
    );
    Ok(())
}

/// Replace (or create) a file atomically: a temporary file in the same
/// folder, then a rename; the permissions of the file it replaces are kept.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.jobsctl-{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        write_error(path, e)
    })
}

/// Whether a folder that is about to be filled is missing or empty.
/// A file in its place is always refused.
fn is_missing_or_empty(path: &Path) -> Result<bool, Error> {
    if !path.exists() {
        return Ok(true);
    }
    if !path.is_dir() {
        return Err(Error::Usage(format!(
            "{}: exists and is not a folder",
            path.display()
        )));
    }
    let mut entries = std::fs::read_dir(path)
        .map_err(|e| Error::Usage(format!("{}: cannot list the folder: {e}", path.display())))?;
    Ok(entries.next().is_none())
}

/// Read a UTF-8 text file the command is about to change.
fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::Usage(format!("{}: no such file", path.display()))
        } else {
            Error::Usage(format!("{}: cannot read: {e}", path.display()))
        }
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not valid UTF-8 (at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// A control-file value in single quotes (`'` doubled).
fn quote_control_value(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The `.gitattributes` of packages and workspaces: Git must never change
/// the line endings of scripts (the registry's script hash is the SHA-256
/// of the file's bytes, so a CRLF checkout would show as drift) or of plans.
pub const GITATTRIBUTES: &str = "\
# Written by jobsctl. The registry records the SHA-256 of each deploy
# script's bytes: keep line endings exactly as committed on every checkout.
*.sql text eol=lf
pgpm.plan text eol=lf
";
