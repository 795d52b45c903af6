//! `jobsctl dev start|stop|status|env`: the dev cluster (see `crate::dev`).
//! Where it is and how to reach it is the data (`output::dev` renders it);
//! what was done is a note on stderr.

use super::project::Project;
use crate::cli::DevCommand;
use crate::dev::{Cluster, Running, Started, Stopped};
use crate::error::Error;
use crate::output::Printer;

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
    printer.dev_started(action, created, &status, &running, database)?;
    Ok(())
}

fn stop(cluster: &Cluster, printer: &Printer) -> Result<(), Error> {
    let outcome = cluster.stop()?;
    let pid = match outcome {
        Stopped::NotRunning => None,
        Stopped::Stopped { pid } => Some(pid),
    };
    printer.dev_stopped(pid, &cluster.dir)?;
    Ok(())
}

fn status(cluster: &Cluster, database: &str, printer: &Printer) -> Result<(), Error> {
    let status = cluster.status(database);
    let running = status.running;
    printer.dev_status(&status)?;
    if running {
        Ok(())
    } else {
        Err(Error::Exit(crate::error::exit::FAILED))
    }
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
    printer.dev_env(vars)?;
    Ok(())
}
