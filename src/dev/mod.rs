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

mod account;
mod binaries;

pub use account::{Account, SERVER_USER, is_root};
pub use binaries::client_program;

use crate::db::Settings;
use account::server_account;
use binaries::Binaries;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// The database the dev cluster's connections use unless `[dev] database`
/// of jobsctl.toml says otherwise.
pub const DEFAULT_DATABASE: &str = "jobs";
/// The cluster's superuser (`initdb -U`), whoever runs the server.
pub const SUPERUSER: &str = "postgres";
/// The dev cluster's folder inside the project.
pub const PROJECT_DIR: &str = ".jobsctl/dev";

const STATE_FILE: &str = "jobsctl-dev.json";
const CONF_FILE: &str = "jobsctl.conf";
/// Longest unix socket path Linux accepts (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;
const START_TIMEOUT: Duration = Duration::from_secs(60);

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
    pub fn exit_code(&self) -> u8 {
        match self {
            DevError::Setup(_) => crate::error::exit::USAGE,
            DevError::Failed(_) | DevError::NotRunning(_) => crate::error::exit::FAILED,
        }
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

/// What `start` reuses from one run to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    /// Where `pgdata/`, `run/` and `server.log` are, when not beside this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server_dir: Option<PathBuf>,
    port: u16,
    socket_dir: PathBuf,
    bindir: PathBuf,
    version: String,
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
        format!(
            "host={} port={} user={} dbname={}",
            quote(&self.socket_dir.to_string_lossy()),
            self.port,
            SUPERUSER,
            quote(database)
        )
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

/// A conninfo value in single quotes, `\` and `'` escaped.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
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

    fn state(&self) -> Option<State> {
        let text = std::fs::read_to_string(self.dir.join(STATE_FILE)).ok()?;
        serde_json::from_str(&text).ok()
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

    /// The live postmaster and whether it accepts connections yet.
    fn postmaster(&self) -> Option<(Running, bool)> {
        let text = std::fs::read_to_string(self.pgdata().join("postmaster.pid")).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        let pid: i32 = lines.first()?.trim().parse().ok()?;
        if !alive(pid) {
            return None;
        }
        let port: u16 = lines.get(3)?.trim().parse().ok()?;
        let socket_dir = lines.get(4)?.split(',').next()?.trim();
        if socket_dir.is_empty() {
            return None;
        }
        let ready = lines.get(7).is_none_or(|s| s.trim() == "ready");
        Some((
            Running {
                pid,
                port,
                socket_dir: PathBuf::from(socket_dir),
            },
            ready,
        ))
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
        let json = serde_json::to_string_pretty(&state).expect("state serializes");
        write_file(&self.dir.join(STATE_FILE), &json)?;
        self.prepare_socket_dir(&socket_dir, account.as_ref())?;
        if created {
            self.initdb(&binaries, account.as_ref())?;
        }
        self.write_conf(port, &socket_dir, account.as_ref())?;

        let mut pg_ctl = account::command(&binaries.program("pg_ctl"), account.as_ref());
        pg_ctl
            .current_dir(&server_dir)
            .arg("start")
            .arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-s", "-t"])
            .arg(START_TIMEOUT.as_secs().to_string());
        let output = run("pg_ctl start", pg_ctl)?;
        if !output.status.success() {
            return Err(DevError::Failed(format!(
                "pg_ctl start failed: {}{}",
                text(&output),
                self.log_tail()
            )));
        }
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
        let mut pg_ctl = account::command(&binaries.program("pg_ctl"), account.as_ref());
        pg_ctl
            .current_dir(self.server_dir())
            .arg("stop")
            .arg("-D")
            .arg(self.pgdata())
            .args(["-m", "fast", "-w", "-s", "-t"])
            .arg(START_TIMEOUT.as_secs().to_string());
        let output = run("pg_ctl stop", pg_ctl)?;
        if !output.status.success() && self.postmaster().is_some() {
            return Err(DevError::Failed(format!(
                "pg_ctl stop failed: {}{}",
                text(&output),
                self.log_tail()
            )));
        }
        Ok(Stopped::Stopped { pid: running.pid })
    }

    /// Create the folder (private), give it to the server's user and make
    /// sure that user can reach it; returns the folder for the server's
    /// files (`previous`, the folder itself, or for a project folder the
    /// server's user cannot reach, one under /var/tmp).
    fn prepare_dirs(
        &self,
        previous: Option<PathBuf>,
        account: Option<&Account>,
    ) -> Result<PathBuf, DevError> {
        create_private_dir(&self.dir)?;
        let Some(account) = account else {
            return Ok(self.dir.clone());
        };
        if let Some(server_dir) = previous {
            create_private_dir(&server_dir)?;
            account::chown(&server_dir, account)?;
            return Ok(server_dir);
        }
        if reachable(&self.dir, account) {
            account::chown(&self.dir, account)?;
            if self.pgdata().exists() {
                account::chown(&self.pgdata(), account)?;
            }
            return Ok(self.dir.clone());
        }
        if !self.relocatable {
            return Err(DevError::Setup(format!(
                "the `{}` user, which runs the server because PostgreSQL refuses to run as root, cannot \
                 reach {} (a folder above it is closed to other users, as /root is): give a folder it \
                 can reach, e.g. --data-dir /var/tmp/jobsctl-dev",
                account.name,
                self.dir.display()
            )));
        }
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.dir.as_os_str().as_encoded_bytes());
        let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let server_dir = PathBuf::from(format!("/var/tmp/jobsctl-dev-{hex}"));
        if let Ok(meta) = std::fs::symlink_metadata(&server_dir) {
            use std::os::unix::fs::MetadataExt;
            if !meta.is_dir() || (meta.uid() != 0 && meta.uid() != account.uid) {
                return Err(DevError::Setup(format!(
                    "{} exists and is not a folder of root or `{}`: remove it, or give a folder with --data-dir",
                    server_dir.display(),
                    account.name
                )));
            }
        }
        create_private_dir(&server_dir)?;
        account::chown(&server_dir, account)?;
        if !reachable(&server_dir, account) {
            return Err(DevError::Setup(format!(
                "the `{}` user cannot reach {} nor {}: give a folder it can reach with --data-dir",
                account.name,
                self.dir.display(),
                server_dir.display()
            )));
        }
        tracing::info!(
            "the `{}` user cannot reach {}: the cluster's files go to {} (remembered in {})",
            account.name,
            self.dir.display(),
            server_dir.display(),
            self.dir.join(STATE_FILE).display()
        );
        Ok(server_dir)
    }

    fn prepare_socket_dir(&self, dir: &Path, account: Option<&Account>) -> Result<(), DevError> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(dir)
            .map_err(|e| DevError::Setup(format!("cannot create {}: {e}", dir.display())))?;
        let owner = account.map_or_else(
            // SAFETY: geteuid has no preconditions and cannot fail.
            || unsafe { libc::geteuid() },
            |a| a.uid,
        );
        if let Some(account) = account {
            account::chown(dir, account)?;
        }
        let meta = std::fs::symlink_metadata(dir)
            .map_err(|e| DevError::Setup(format!("{}: {e}", dir.display())))?;
        if !meta.is_dir() || meta.uid() != owner {
            return Err(DevError::Setup(format!(
                "{} is not a folder of the server's user: remove it, or pass another --data-dir",
                dir.display()
            )));
        }
        set_mode(dir, 0o700)
    }

    fn initdb(&self, binaries: &Binaries, account: Option<&Account>) -> Result<(), DevError> {
        let mut initdb = account::command(&binaries.program("initdb"), account);
        initdb
            .current_dir(self.server_dir())
            .arg("-D")
            .arg(self.pgdata())
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]);
        let output = run("initdb", initdb)?;
        if !output.status.success() {
            return Err(DevError::Failed(format!(
                "initdb failed: {}",
                text(&output)
            )));
        }
        let conf = self.pgdata().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .map_err(|e| DevError::Failed(format!("{}: {e}", conf.display())))?;
        text.push_str(&format!(
            "\n# Port and socket folder of the jobsctl dev cluster, rewritten at each `jobsctl dev start`.\ninclude_if_exists '{CONF_FILE}'\n"
        ));
        write_file(&conf, &text)
    }

    fn write_conf(
        &self,
        port: u16,
        socket_dir: &Path,
        account: Option<&Account>,
    ) -> Result<(), DevError> {
        let path = self.pgdata().join(CONF_FILE);
        let text = format!(
            "# Written by `jobsctl dev start`; the port is remembered in ../{STATE_FILE} (change it with --port).\n\
             port = {port}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             listen_addresses = ''\n",
            socket_dir.display().to_string().replace('\'', "''")
        );
        write_file(&path, &text)?;
        if let Some(account) = account {
            account::chown(&path, account)?;
        }
        Ok(())
    }

    /// Wait until the postmaster says `ready` (or is gone).
    fn wait_ready(&self) -> Result<Running, DevError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.postmaster() {
                Some((running, true)) => return Ok(running),
                Some(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Some(_) => {
                    return Err(DevError::Failed(format!(
                        "the dev cluster did not become ready in {} s{}",
                        START_TIMEOUT.as_secs(),
                        self.log_tail()
                    )));
                }
                None => {
                    return Err(DevError::Failed(format!(
                        "the dev cluster's server exited while starting{}",
                        self.log_tail()
                    )));
                }
            }
        }
    }

    /// Wait until a connection to the `postgres` database succeeds.
    fn wait_connectable(&self, running: &Running) -> Result<(), DevError> {
        let settings = running
            .settings("postgres", &|_| None)
            .map_err(|e| DevError::Failed(e.to_string()))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match settings.connect(None) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(DevError::Failed(format!(
                        "the dev cluster does not accept connections: {e}{}",
                        self.log_tail()
                    )));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "dev cluster not accepting connections yet");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// The end of the server's log, to explain a failure.
    fn log_tail(&self) -> String {
        let Ok(text) = std::fs::read_to_string(self.log_file()) else {
            return String::new();
        };
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(15)..];
        if tail.is_empty() {
            return String::new();
        }
        format!(
            "\n{} says:\n  {}",
            self.log_file().display(),
            tail.join("\n  ")
        )
    }
}

/// `run/` in the server's folder, unless that path is too long for a unix
/// socket: then a private folder under the temporary folder.
fn choose_socket_dir(server_dir: &Path) -> PathBuf {
    let local = server_dir.join("run");
    // "/.s.PGSQL.65535.lock" is the longest name the server puts there.
    if local.as_os_str().len() + "/.s.PGSQL.65535.lock".len() <= MAX_SOCKET_PATH {
        return local;
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(server_dir.as_os_str().as_encoded_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    std::env::temp_dir().join(format!("jobsctl-dev-{uid}-{hex}"))
}

/// Create `dir` and its parents; a folder created now is private (0700).
fn create_private_dir(dir: &Path) -> Result<(), DevError> {
    let fresh = !dir.exists();
    std::fs::create_dir_all(dir)
        .map_err(|e| DevError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    if fresh {
        set_mode(dir, 0o700)?;
    }
    Ok(())
}

/// Whether `account` can reach `dir`: search its parent folder (and so
/// every folder above). `dir` itself is given to the account afterwards.
fn reachable(dir: &Path, account: &Account) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    account::command(Path::new("test"), Some(account))
        .arg("-x")
        .arg(parent)
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a server program, logging the command line and what it printed.
fn run(what: &str, mut command: std::process::Command) -> Result<Output, DevError> {
    tracing::info!(command = ?command, "running {what}");
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| DevError::Failed(format!("cannot run {what}: {e}")))?;
    tracing::debug!(
        status = %output.status,
        stdout = %String::from_utf8_lossy(&output.stdout).trim(),
        stderr = %String::from_utf8_lossy(&output.stderr).trim(),
        "{what} finished"
    );
    Ok(output)
}

fn text(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stdout.trim());
    }
    if text.is_empty() {
        text = output.status.to_string();
    }
    text
}

fn write_file(path: &Path, text: &str) -> Result<(), DevError> {
    std::fs::write(path, text)
        .map_err(|e| DevError::Setup(format!("cannot write {}: {e}", path.display())))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), DevError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| DevError::Setup(format!("cannot protect {}: {e}", path.display())))
}

/// A TCP port nobody listens on now (the cluster itself listens only on
/// its socket, but a port nobody else uses keeps `PGPORT` unambiguous).
fn free_port() -> Result<u16, DevError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| DevError::Setup(format!("cannot find a free port: {e}")))
}

/// True when a process with this pid exists and, where /proc tells, is a
/// PostgreSQL server (a pid reused after a crash is not).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) == 0 }
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim().starts_with("postgres") || comm.trim().starts_with("postmaster"),
        Err(_) => true,
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
            r"host='/tmp/it\'s here' port=5433 user=postgres dbname='jobs'"
        );
        let settings = running.settings("jobs", &|_| None).unwrap();
        assert_eq!(settings.database(), "jobs");
        assert_eq!(settings.user(), "postgres");
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

    #[test]
    fn long_folders_put_the_socket_elsewhere() {
        assert_eq!(
            choose_socket_dir(Path::new("/p/.jobsctl/dev")),
            PathBuf::from("/p/.jobsctl/dev/run")
        );
        let dir = choose_socket_dir(&PathBuf::from(format!("/{}/.jobsctl/dev", "x".repeat(100))));
        assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
        assert!(dir.as_os_str().len() + 20 <= MAX_SOCKET_PATH);
    }
}
