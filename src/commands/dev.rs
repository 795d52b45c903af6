//! `jobsctl dev start|stop|status|env`: the dev cluster (see `crate::dev`).
//! Where it is and how to reach it is the data (stdout, or one JSON
//! document); what was done is a note on stderr.

use super::project::Project;
use crate::cli::{DevCommand, Format};
use crate::dev::{Cluster, Running, Started, Status, Stopped};
use crate::error::Error;
use crate::output::{DIM, HEADING, Printer};
use serde::Serialize;
use std::io::{self, Write};

pub fn run(project: &Project, command: &DevCommand, printer: &Printer) -> Result<(), Error> {
    let cluster = project.dev_cluster()?;
    let database = project.dev_database()?;
    tracing::info!(data_dir = %cluster.dir.display(), "dev cluster");
    match command {
        DevCommand::Start(args) => start(&cluster, &database, args.port, printer),
        DevCommand::Stop => stop(&cluster, printer),
        DevCommand::Status => status(&cluster, &database, printer),
        DevCommand::Env => env(&cluster, &database, printer),
    }
}

#[derive(Serialize)]
struct StartDocument {
    /// `started`, or `already_running`.
    action: &'static str,
    /// The cluster was created now.
    created: bool,
    #[serde(flatten)]
    status: Status,
}

fn start(
    cluster: &Cluster,
    database: &str,
    port: Option<u16>,
    printer: &Printer,
) -> Result<(), Error> {
    let (action, created, running) = match cluster.start(port, database)? {
        Started::AlreadyRunning(running) => {
            printer.note(&format!(
                "the dev cluster is already running (pid {})",
                running.pid
            ));
            if let Some(port) = port.filter(|p| *p != running.port) {
                printer.warning(&format!(
                    "--port {port} ignored: it runs on port {}; `jobsctl dev stop` first to change it",
                    running.port
                ));
            }
            ("already_running", false, running)
        }
        Started::Started { running, created } => {
            if created {
                printer.note(&format!(
                    "created a new cluster in {} and its database {database}",
                    cluster.dir.display()
                ));
            }
            printer.note(&format!("started the dev cluster (pid {})", running.pid));
            ("started", created, running)
        }
    };
    let status = cluster.status(database);
    if !status.pgdata.starts_with(&cluster.dir) {
        printer.note(&format!(
            "the `{}` user, which runs the server, cannot reach {}: the cluster's files are in {}",
            crate::dev::SERVER_USER,
            cluster.dir.display(),
            status.pgdata.parent().unwrap_or(&status.pgdata).display()
        ));
    }
    if printer.format() == Format::Json {
        return json(&StartDocument {
            action,
            created,
            status,
        });
    }
    human_status(&status)?;
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "  {DIM}connect{DIM:#}   psql -h {} -p {} -U {} {database}",
        shell_word(&running.socket_dir.display().to_string()),
        running.port,
        crate::dev::SUPERUSER,
    )?;
    printer.note(
        "next: `jobsctl deploy --createdb` deploys into it while no other database is configured; \
         `eval \"$(jobsctl dev env)\"` points psql and other libpq tools at it",
    );
    Ok(())
}

#[derive(Serialize)]
struct StopDocument {
    stopped: bool,
    pid: Option<i32>,
    data_dir: std::path::PathBuf,
}

fn stop(cluster: &Cluster, printer: &Printer) -> Result<(), Error> {
    let outcome = cluster.stop()?;
    let (stopped, pid) = match outcome {
        Stopped::NotRunning => (false, None),
        Stopped::Stopped { pid } => (true, Some(pid)),
    };
    if printer.format() == Format::Json {
        return json(&StopDocument {
            stopped,
            pid,
            data_dir: cluster.dir.clone(),
        });
    }
    let mut out = anstream::stdout().lock();
    match pid {
        Some(pid) => writeln!(
            out,
            "stopped the dev cluster (pid {pid}); its data stays in {}",
            cluster.dir.display()
        )?,
        None => writeln!(
            out,
            "the dev cluster in {} is not running",
            cluster.dir.display()
        )?,
    }
    Ok(())
}

fn status(cluster: &Cluster, database: &str, printer: &Printer) -> Result<(), Error> {
    let status = cluster.status(database);
    let running = status.running;
    if printer.format() == Format::Json {
        json(&status)?;
    } else {
        human_status(&status)?;
    }
    if running {
        Ok(())
    } else {
        Err(Error::Exit(crate::error::exit::FAILED))
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

fn env(cluster: &Cluster, database: &str, printer: &Printer) -> Result<(), Error> {
    let running: Running = cluster.require_running()?;
    let vars = running.env(database);
    if std::env::var_os("DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        printer.warning(
            "DATABASE_URL is set: jobsctl (and other tools that read it) prefer it to these PG* \
             variables; `unset DATABASE_URL` to use the dev cluster",
        );
    }
    if printer.format() == Format::Json {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect();
        return json(&map);
    }
    let mut out = io::stdout().lock();
    for (name, value) in vars {
        writeln!(out, "export {name}={}", shell_word(&value))?;
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

fn json<T: Serialize>(value: &T) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::other)?;
    writeln!(out)?;
    Ok(())
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
