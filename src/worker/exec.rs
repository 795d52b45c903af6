//! The exec handler: run a program (argv, no shell), the payload JSON on
//! its stdin, the job's metadata in `JOBSCTL_JOB_*` variables. Exit 0
//! completes the job; any other exit, a signal, a timeout or a program
//! that cannot start fails it with a reason and the tail of stderr.
//!
//! Each handler runs in its own process group, so that a timeout or a
//! shutdown stops everything it started. The worker's own connection
//! settings (`PG*`, `DATABASE_URL`) are not passed on; `env` of the task
//! adds variables.

use super::Shared;
use super::config::Task;
use super::job::{Job, MAX_ERROR, Outcome, tail};
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Bytes of stderr (and stdout) kept for the error message.
const KEEP: usize = 4096;

/// Variables never handed to handlers: the worker's database credentials.
fn is_withheld(name: &str) -> bool {
    name == "DATABASE_URL" || name.starts_with("PG")
}

/// `None`: stopped (shutdown, or `lost`: the job's lock was lost), its
/// process group killed.
pub async fn run(
    shared: &Arc<Shared>,
    task: &Task,
    argv: &[String],
    job: &Job,
    mut lost: tokio::sync::watch::Receiver<bool>,
) -> Option<Outcome> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        if is_withheld(&name.to_string_lossy()) {
            command.env_remove(&name);
        }
    }
    command
        .envs(&task.env)
        .env("JOBSCTL_WORKER_ID", &shared.options.worker_id)
        .env("JOBSCTL_JOB_ID", job.id.to_string())
        .env("JOBSCTL_JOB_TASK", &job.task)
        .env("JOBSCTL_JOB_DATABASE_ID", &job.database_id)
        .env("JOBSCTL_JOB_ATTEMPTS", job.attempts.to_string())
        .env("JOBSCTL_JOB_MAX_ATTEMPTS", job.max_attempts.to_string());
    match &job.key {
        Some(key) => command.env("JOBSCTL_JOB_KEY", key),
        None => command.env_remove("JOBSCTL_JOB_KEY"),
    };
    match &job.queue_name {
        Some(queue) => command.env("JOBSCTL_JOB_QUEUE", queue),
        None => command.env_remove("JOBSCTL_JOB_QUEUE"),
    };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Some(Outcome::Failed(format!(
                "cannot start {}: {error}",
                argv[0]
            )));
        }
    };
    let pid = child.id().map(|p| p as i32);
    if let Some(pid) = pid {
        shared.groups.lock().expect("not poisoned").insert(pid);
    }
    // Write the payload from its own task: a program that does not read
    // stdin must not block us, and a closed pipe is not an error.
    let mut stdin = child.stdin.take().expect("piped");
    let payload = job.payload.clone().into_bytes();
    tokio::spawn(async move {
        let _ = stdin.write_all(&payload).await;
        let _ = stdin.shutdown().await;
    });
    let stdout = tokio::spawn(keep_tail(child.stdout.take().expect("piped")));
    let stderr = tokio::spawn(keep_tail(child.stderr.take().expect("piped")));

    let mut kill = shared.kill.subscribe();
    let timeout = async {
        match task.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    enum End {
        Exited(std::io::Result<std::process::ExitStatus>),
        TimedOut,
        Stopped,
    }
    let end = tokio::select! {
        status = child.wait() => End::Exited(status),
        _ = timeout => End::TimedOut,
        _ = kill.wait_for(|k| *k) => End::Stopped,
        _ = lost.wait_for(|l| *l) => End::Stopped,
    };
    if !matches!(end, End::Exited(_)) {
        if let Some(pid) = pid {
            kill_group(pid);
        }
        let _ = child.wait().await;
    }
    if let Some(pid) = pid {
        shared.groups.lock().expect("not poisoned").remove(&pid);
    }
    // A program that left a child holding the pipes must not keep us.
    let grace = std::time::Duration::from_secs(1);
    let err_tail = tokio::time::timeout(grace, stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let out_tail = tokio::time::timeout(grace, stdout)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let output = || {
        let text = if err_tail.trim().is_empty() {
            &out_tail
        } else {
            &err_tail
        };
        if text.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", tail(text, MAX_ERROR - 100))
        }
    };
    Some(match end {
        End::Exited(Ok(status)) if status.success() => Outcome::Completed,
        End::Exited(Ok(status)) => {
            use std::os::unix::process::ExitStatusExt;
            let how = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                _ => status.to_string(),
            };
            Outcome::Failed(format!("{} failed with {how}{}", argv[0], output()))
        }
        End::Exited(Err(error)) => {
            Outcome::Failed(format!("{}: cannot wait for it: {error}", argv[0]))
        }
        End::TimedOut => Outcome::Failed(format!(
            "{} timed out after {}s; its process group was killed{}",
            argv[0],
            task.timeout.map_or(0.0, |t| t.as_secs_f64()),
            output()
        )),
        End::Stopped => return None,
    })
}

/// SIGKILL a handler's process group.
pub fn kill_group(pid: i32) {
    // SAFETY: kill(2) with a negative pid signals that process group; it
    // has no memory effects.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// Read a pipe to its end, keeping the last `KEEP` bytes, as text
/// (invalid UTF-8 replaced).
async fn keep_tail(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buffer[..n]);
                if kept.len() > 2 * KEEP {
                    kept.drain(..kept.len() - KEEP);
                }
            }
        }
    }
    if kept.len() > KEEP {
        kept.drain(..kept.len() - KEEP);
    }
    String::from_utf8_lossy(&kept).into_owned()
}
