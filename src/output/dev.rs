//! `jobsctl dev start|stop|status|env` output: where the dev cluster is and
//! how to reach it, as text or as one JSON document.

use super::{DIM, HEADING, Printer};
use crate::cli::Format;
use crate::dev::{Running, Status};
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

#[derive(Serialize)]
struct StartDocument<'a> {
    /// `started`, or `already_running`.
    action: &'static str,
    /// The cluster was created now.
    created: bool,
    #[serde(flatten)]
    status: &'a Status,
}

#[derive(Serialize)]
struct StopDocument<'a> {
    stopped: bool,
    pid: Option<i32>,
    data_dir: &'a Path,
}

impl Printer {
    /// `dev start`: `action` is `started` or `already_running`.
    pub fn dev_started(
        &self,
        action: &'static str,
        created: bool,
        status: &Status,
        running: &Running,
        database: &str,
    ) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(&StartDocument {
                action,
                created,
                status,
            });
        }
        human_status(status)?;
        let mut out = anstream::stdout().lock();
        writeln!(
            out,
            "  {DIM}connect{DIM:#}   psql -h {} -p {} -U {} {database}",
            shell_word(&running.socket_dir.display().to_string()),
            running.port,
            crate::dev::SUPERUSER,
        )?;
        self.note(
            "next: `jobsctl deploy --createdb` deploys into it while no other database is configured; \
             `eval \"$(jobsctl dev env)\"` points psql and other libpq tools at it",
        );
        Ok(())
    }

    /// `dev stop`: the pid stopped, or none when it was not running.
    pub fn dev_stopped(&self, pid: Option<i32>, data_dir: &Path) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(&StopDocument {
                stopped: pid.is_some(),
                pid,
                data_dir,
            });
        }
        let mut out = anstream::stdout().lock();
        match pid {
            Some(pid) => writeln!(
                out,
                "stopped the dev cluster (pid {pid}); its data stays in {}",
                data_dir.display()
            ),
            None => writeln!(
                out,
                "the dev cluster in {} is not running",
                data_dir.display()
            ),
        }
    }

    pub fn dev_status(&self, status: &Status) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(status);
        }
        human_status(status)
    }

    /// `dev env`: `export NAME=value` lines for a shell, or one JSON object.
    pub fn dev_env(&self, vars: Vec<(&'static str, String)>) -> io::Result<()> {
        if self.format == Format::Json {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .into_iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                .collect();
            return self.json(&map);
        }
        let mut out = io::stdout().lock();
        for (name, value) in vars {
            writeln!(out, "export {name}={}", shell_word(&value))?;
        }
        Ok(())
    }
}

fn human_status(status: &Status) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    match status.pid {
        Some(pid) => writeln!(out, "{HEADING}dev cluster running{HEADING:#}  pid {pid}")?,
        None if status.initialized => writeln!(out, "{HEADING}dev cluster stopped{HEADING:#}")?,
        None => writeln!(
            out,
            "{HEADING}no dev cluster{HEADING:#}  {DIM}(`jobsctl dev start` creates it){DIM:#}"
        )?,
    }
    let row = |out: &mut dyn Write, name: &str, value: String| {
        writeln!(out, "  {DIM}{name:<9}{DIM:#} {value}")
    };
    if let Some(port) = status.port {
        row(&mut out, "port", port.to_string())?;
    }
    if let Some(dir) = &status.socket_dir {
        row(&mut out, "socket", dir.display().to_string())?;
    }
    row(&mut out, "data", status.data_dir.display().to_string())?;
    if !status.pgdata.starts_with(&status.data_dir) {
        row(&mut out, "pgdata", status.pgdata.display().to_string())?;
    }
    if let Some(version) = &status.version {
        row(&mut out, "version", format!("PostgreSQL {version}"))?;
    }
    row(
        &mut out,
        "database",
        format!("{} (user {})", status.database, status.user),
    )?;
    if status.initialized {
        row(&mut out, "log", status.log_file.display().to_string())?;
    }
    Ok(())
}

/// `value` as one POSIX shell word: as is when it is plain, else in single
/// quotes (`'` written as `'\''`).
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@%=".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("/tmp/x"), "/tmp/x");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }
}
