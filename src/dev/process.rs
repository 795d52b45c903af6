//! The server's processes: `pg_ctl start` and `stop`, the postmaster as
//! `pgdata/postmaster.pid` describes it (its pid checked with signal 0),
//! waiting until it is ready and accepts connections, and running the
//! server's programs with their output logged.

use super::account::{self, Account};
use super::binaries::Binaries;
use super::{Cluster, DevError, Running};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(60);

impl Cluster {
    /// The live postmaster and whether it accepts connections yet.
    pub(super) fn postmaster(&self) -> Option<(Running, bool)> {
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

    /// `pg_ctl start`, waiting (up to [`START_TIMEOUT`]) until the server
    /// runs; a failure quotes the end of the server's log.
    pub(super) fn pg_ctl_start(
        &self,
        binaries: &Binaries,
        account: Option<&Account>,
        server_dir: &Path,
    ) -> Result<(), DevError> {
        let mut pg_ctl = account::command(&binaries.program("pg_ctl"), account);
        pg_ctl
            .current_dir(server_dir)
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
        Ok(())
    }

    /// `pg_ctl stop` in fast mode (open sessions are rolled back and
    /// disconnected); a failure while the server still runs quotes the end
    /// of its log.
    pub(super) fn pg_ctl_stop(
        &self,
        binaries: &Binaries,
        account: Option<&Account>,
    ) -> Result<(), DevError> {
        let mut pg_ctl = account::command(&binaries.program("pg_ctl"), account);
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
        Ok(())
    }

    /// Wait until the postmaster says `ready` (or is gone).
    pub(super) fn wait_ready(&self) -> Result<Running, DevError> {
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
    pub(super) fn wait_connectable(&self, running: &Running) -> Result<(), DevError> {
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
    pub(super) fn log_tail(&self) -> String {
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

/// Run a server program, logging the command line and what it printed.
pub(super) fn run(what: &str, mut command: std::process::Command) -> Result<Output, DevError> {
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

pub(super) fn text(output: &Output) -> String {
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

/// True when a process with this pid exists and, where /proc tells, is a
/// PostgreSQL server (a pid reused after a crash is not).
pub(super) fn alive(pid: i32) -> bool {
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
