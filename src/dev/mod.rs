//! The dev cluster: a throwaway local PostgreSQL that `jobsctl dev start`
//! makes from the machine's server programs, for trying jobsctl and for
//! everyday development.
//!
//! Its folder (`.jobsctl/dev` of the project unless told otherwise, see
//! [`locate`]) holds:
//!
//! - `pgdata/`: the cluster (`initdb -U postgres`, trust on the unix
//!   socket, no TCP at all), with `pgdata/jobsctl.conf` (included from
//!   `postgresql.conf`, rewritten at each start: port and socket folder);
//! - `jobsctl-dev.json`: what to reuse on the next start (the port, the
//!   socket folder, the binaries);
//! - `run/`: the socket folder, mode 0700 (only the server's user, and
//!   root, can connect); when the folder's path is too long for a unix
//!   socket it is `$TMPDIR/jobsctl-dev-<uid>-<hash>` instead;
//! - `server.log`: the server's log.
//!
//! When jobsctl runs as root, the server runs as the `postgres` user
//! (PostgreSQL refuses root) and the folder belongs to that user. When that
//! user cannot reach the project's folder (a project under `/root`, which
//! is closed to others), `pgdata/`, `run/` and `server.log` go to
//! `/var/tmp/jobsctl-dev-<hash>` instead, and `jobsctl-dev.json` in the
//! project's folder remembers where; a folder given with `--data-dir` or
//! `[dev] data_dir` is used as it is or not at all.
//! Whether it runs is read from `pgdata/postmaster.pid` (the server's own
//! record of its pid, port, socket folder and state), never guessed.
//!
//! This file is the facade ([`Cluster`]: locate, status, start, stop);
//! `state.rs` reads and writes `jobsctl-dev.json`, `setup.rs` makes the
//! folders, runs `initdb` and writes the configuration, `process.rs`
//! drives `pg_ctl` and watches the postmaster, `binaries.rs` finds the
//! server's programs and `account.rs` the user that runs them.

mod account;
mod binaries;
mod process;
mod setup;
mod state;

pub use account::{Account, SERVER_USER, is_root};
pub use binaries::{client_program, debian_bindirs, pg_config_bindir};

use crate::db::Settings;
use crate::db::conninfo::{self, Key};
use account::server_account;
use binaries::Binaries;
use serde::Serialize;
use setup::{choose_socket_dir, free_port};
use state::State;
use std::path::{Path, PathBuf};

/// The database the dev cluster's connections use unless `[dev] database`
/// of jobsctl.toml says otherwise.
pub const DEFAULT_DATABASE: &str = "jobs";
/// The cluster's superuser (`initdb -U`), whoever runs the server.
pub const SUPERUSER: &str = "postgres";
/// The dev cluster's folder inside the project.
pub const PROJECT_DIR: &str = ".jobsctl/dev";
/// What `start` reuses from one run to the next, in the cluster's folder
/// (see `state.rs`).
const STATE_FILE: &str = "jobsctl-dev.json";

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The cluster cannot be made or started as things are (no binaries,
    /// no `postgres` user, a folder the server cannot reach): nothing ran.
    #[error("{0}")]
    Setup(String),
    /// A step ran and failed (initdb, pg_ctl, the first connection).
    #[error("{0}")]
    Failed(String),
    /// The command needs a running cluster.
    #[error("{0}")]
    NotRunning(String),
}

impl DevError {
    /// The cluster could not be set up for want of something (server
    /// programs, a usable folder): a configuration problem, exit code 2 at
    /// the top; the others are failed operations.
    pub fn is_setup(&self) -> bool {
        matches!(self, DevError::Setup(_))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            DevError::Setup(_) => "dev_setup",
            DevError::Failed(_) => "dev_failed",
            DevError::NotRunning(_) => "dev_not_running",
        }
    }
}

/// The dev cluster's folder: `explicit` (`--data-dir`/`JOBSCTL_DEV_DIR`,
/// relative to the current folder), else `configured` (`[dev] data_dir`),
/// else `.jobsctl/dev` beside jobsctl.toml when there is one, else the
/// nearest `.jobsctl/dev` holding a cluster in the current folder or a
/// parent, else `.jobsctl/dev` in the current folder. Only the project
/// folders (the last three) may move their data where the server's user
/// can reach it.
pub fn locate(
    explicit: Option<&Path>,
    configured: Option<PathBuf>,
    config_dir: Option<&Path>,
    cwd: &Path,
) -> Cluster {
    if let Some(dir) = explicit {
        return Cluster::new(cwd.join(dir));
    }
    if let Some(dir) = configured {
        return Cluster::new(cwd.join(dir));
    }
    let dir = match config_dir {
        Some(dir) => cwd.join(dir).join(PROJECT_DIR),
        None => cwd
            .ancestors()
            .map(|d| d.join(PROJECT_DIR))
            .find(|d| d.join(STATE_FILE).is_file())
            .unwrap_or_else(|| cwd.join(PROJECT_DIR)),
    };
    Cluster {
        dir,
        relocatable: true,
    }
}

/// A running cluster, as its `postmaster.pid` describes it.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    pub pid: i32,
    pub port: u16,
    pub socket_dir: PathBuf,
}

impl Running {
    /// A conninfo string for `database` on this cluster, as the superuser.
    pub fn conninfo(&self, database: &str) -> String {
        conninfo::render(&[
            (Key::Host, &self.socket_dir.to_string_lossy()),
            (Key::Port, &self.port.to_string()),
            (Key::User, SUPERUSER),
            (Key::DbName, database),
        ])
    }

    /// Settings for `database` on this cluster; `env` fills in what the
    /// conninfo leaves out (`PGAPPNAME`, `PGOPTIONS`, ...), as libpq would.
    pub fn settings(
        &self,
        database: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, crate::db::DbError> {
        Settings::resolve(Some(&self.conninfo(database)), env)
    }

    /// `PGHOST`, `PGPORT`, `PGUSER` and `PGDATABASE` for this cluster.
    pub fn env(&self, database: &str) -> Vec<(&'static str, String)> {
        vec![
            ("PGHOST", self.socket_dir.display().to_string()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", SUPERUSER.to_owned()),
            ("PGDATABASE", database.to_owned()),
        ]
    }
}

/// What `dev status` shows.
#[derive(Debug, Serialize)]
pub struct Status {
    pub running: bool,
    pub pid: Option<i32>,
    pub port: Option<u16>,
    pub socket_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// The cluster's files (`data_dir/pgdata`, unless moved where the
    /// server's user can reach them).
    pub pgdata: PathBuf,
    /// True once `dev start` has created the cluster.
    pub initialized: bool,
    /// The PostgreSQL version the cluster was last started with.
    pub version: Option<String>,
    pub user: &'static str,
    pub database: String,
    pub log_file: PathBuf,
}

/// What `start` did.
#[derive(Debug)]
pub enum Started {
    AlreadyRunning(Running),
    Started {
        running: Running,
        /// The cluster was created by this start (and its database with it).
        created: bool,
    },
}

/// What `stop` did.
#[derive(Debug)]
pub enum Stopped {
    NotRunning,
    Stopped { pid: i32 },
}

/// The dev cluster in one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub dir: PathBuf,
    /// The server's files may go elsewhere when its user cannot reach `dir`.
    pub relocatable: bool,
}

impl Cluster {
    /// The cluster in `dir`, used as it is.
    pub fn new(dir: PathBuf) -> Cluster {
        Cluster {
            dir,
            relocatable: false,
        }
    }

    /// The folder of `pgdata/`, `run/` and `server.log`.
    fn server_dir(&self) -> PathBuf {
        self.state()
            .and_then(|s| s.server_dir)
            .unwrap_or_else(|| self.dir.clone())
    }

    pub fn pgdata(&self) -> PathBuf {
        self.server_dir().join("pgdata")
    }

    pub fn log_file(&self) -> PathBuf {
        self.server_dir().join("server.log")
    }

    fn initialized(&self) -> bool {
        self.pgdata().join("PG_VERSION").is_file()
    }

    fn pg_version(&self) -> Option<String> {
        std::fs::read_to_string(self.pgdata().join("PG_VERSION"))
            .ok()
            .map(|v| v.trim().to_owned())
    }

    /// The running server, from `pgdata/postmaster.pid`: its pid is alive
    /// (and is a `postgres` process where /proc says) and it is `ready`.
    pub fn running(&self) -> Option<Running> {
        self.postmaster()
            .filter(|(_, ready)| *ready)
            .map(|(r, _)| r)
    }

    pub fn status(&self, database: &str) -> Status {
        let running = self.running();
        let state = self.state();
        Status {
            running: running.is_some(),
            pid: running.as_ref().map(|r| r.pid),
            port: running
                .as_ref()
                .map(|r| r.port)
                .or(state.as_ref().map(|s| s.port)),
            socket_dir: running
                .as_ref()
                .map(|r| r.socket_dir.clone())
                .or(state.as_ref().map(|s| s.socket_dir.clone())),
            data_dir: self.dir.clone(),
            pgdata: self.pgdata(),
            initialized: self.initialized(),
            version: state.map(|s| s.version).or_else(|| self.pg_version()),
            user: SUPERUSER,
            database: database.to_owned(),
            log_file: self.log_file(),
        }
    }

    /// The running cluster, or an error that says how to start it.
    pub fn require_running(&self) -> Result<Running, DevError> {
        self.running().ok_or_else(|| {
            DevError::NotRunning(format!(
                "the dev cluster in {} is not running: start it with `jobsctl dev start`",
                self.dir.display()
            ))
        })
    }

    /// Create the cluster if needed, start it, wait until it accepts
    /// connections; a new cluster gets `database` created.
    pub fn start(&self, port: Option<u16>, database: &str) -> Result<Started, DevError> {
        if let Some(running) = self.running() {
            return Ok(Started::AlreadyRunning(running));
        }
        if self.postmaster().is_some() {
            // Starting or stopping (another jobsctl, or a crash recovery).
            let running = self.wait_ready()?;
            return Ok(Started::AlreadyRunning(running));
        }
        let account = server_account()?;
        let created = !self.initialized();
        let binaries = binaries::find(self.pg_version().as_deref())?;
        tracing::info!(bindir = %binaries.dir.display(), version = %binaries.version, "PostgreSQL server binaries");
        let previous = self.state();
        let server_dir = self.prepare_dirs(
            previous.as_ref().and_then(|s| s.server_dir.clone()),
            account.as_ref(),
        )?;
        let socket_dir = match &previous {
            Some(state) => state.socket_dir.clone(),
            None => choose_socket_dir(&server_dir),
        };
        let port = port
            .or(previous.as_ref().map(|s| s.port))
            .map_or_else(free_port, Ok)?;
        let state = State {
            server_dir: (server_dir != self.dir).then(|| server_dir.clone()),
            port,
            socket_dir: socket_dir.clone(),
            bindir: binaries.dir.clone(),
            version: binaries.version.clone(),
        };
        self.write_state(&state)?;
        self.prepare_socket_dir(&socket_dir, account.as_ref())?;
        if created {
            self.initdb(&binaries, account.as_ref())?;
        }
        self.write_conf(port, &socket_dir, account.as_ref())?;

        self.pg_ctl_start(&binaries, account.as_ref(), &server_dir)?;
        let running = self.wait_ready()?;
        self.wait_connectable(&running)?;
        if created {
            let settings = running
                .settings(database, &|_| None)
                .map_err(|e| DevError::Failed(e.to_string()))?;
            crate::db::create_database(&settings)
                .map_err(|e| DevError::Failed(format!("creating database {database}: {e}")))?;
            tracing::info!(database, "created the dev cluster's database");
        }
        Ok(Started::Started { running, created })
    }

    /// Fast shutdown: open sessions are rolled back and disconnected.
    pub fn stop(&self) -> Result<Stopped, DevError> {
        let Some((running, _)) = self.postmaster() else {
            return Ok(Stopped::NotRunning);
        };
        let account = server_account()?;
        let binaries = match self.state().filter(|s| s.bindir.join("pg_ctl").is_file()) {
            Some(state) => Binaries {
                dir: state.bindir,
                version: state.version,
            },
            None => binaries::find(self.pg_version().as_deref())?,
        };
        self.pg_ctl_stop(&binaries, account.as_ref())?;
        Ok(Stopped::Stopped { pid: running.pid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_quotes_the_socket_folder() {
        let running = Running {
            pid: 1,
            port: 5433,
            socket_dir: PathBuf::from("/tmp/it's here"),
        };
        assert_eq!(
            running.conninfo("jobs"),
            r"host='/tmp/it\'s here' port='5433' user='postgres' dbname='jobs'"
        );
        let settings = running.settings("jobs", &|_| None).unwrap();
        assert_eq!(settings.database(), "jobs");
        assert_eq!(settings.user(), "postgres");
        assert_eq!(settings.describe(), "postgres@/tmp/it's here:5433/jobs");
    }

    #[test]
    fn locate_prefers_flag_then_config_then_project() {
        let cwd = tempfile::tempdir().unwrap();
        let cwd = cwd.path();
        assert_eq!(
            locate(Some(Path::new("x")), Some(PathBuf::from("/c")), None, cwd),
            Cluster::new(cwd.join("x"))
        );
        assert_eq!(
            locate(None, Some(PathBuf::from("/c")), Some(cwd), cwd),
            Cluster::new(PathBuf::from("/c"))
        );
        let project = |dir: PathBuf| Cluster {
            dir,
            relocatable: true,
        };
        assert_eq!(
            locate(None, None, Some(Path::new("/proj")), cwd),
            project(PathBuf::from("/proj/.jobsctl/dev"))
        );
        let sub = cwd.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(
            locate(None, None, None, &sub),
            project(sub.join(PROJECT_DIR))
        );
        std::fs::create_dir_all(cwd.join(PROJECT_DIR)).unwrap();
        std::fs::write(cwd.join(PROJECT_DIR).join(STATE_FILE), "{}").unwrap();
        assert_eq!(
            locate(None, None, None, &sub),
            project(cwd.join(PROJECT_DIR))
        );
    }
}
