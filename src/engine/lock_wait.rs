//! Lock-safe changes: a `lock_timeout` for each change's own statements,
//! and retries with exponential backoff when a change gives up waiting for
//! a lock (SQLSTATE 55P03, `lock_not_available`), saying who blocked it.
//!
//! - In a transaction (any `--tx` scope) the change's scripts run after a
//!   `SAVEPOINT`; a lock timeout rolls back to it and the change runs again
//!   from its start, the changes before it in the same transaction kept
//!   (and their locks held while waiting).
//! - Outside a transaction (`CREATE INDEX CONCURRENTLY` and friends) the
//!   timeout is set for the session while the change's statements run; a
//!   change is retried only when the statement that timed out was its
//!   first and an ordinary one: what ran before cannot be undone, and a
//!   concurrent index build that fails may leave an INVALID index.
//! - The registry's statements never run under the change's timeout (it is
//!   reset to 0 before them).
//!
//! The blockers come from [`crate::db::blockers::Watch`]: a second
//! connection polls `pg_blocking_pids` of the change's session while the
//! change runs (after a timeout nobody is waiting any more, so asking then
//! finds nobody).

use super::execute::{Executor, Work};
use super::failure::ScriptFailure;
use super::{Error, Progress};
use crate::db::Settings;
use crate::db::blockers::{Blocker, Watch};
use crate::interrupt;
use crate::package::SqlFile;
use crate::script::StatementKind;
use serde::Serialize;
use std::time::{Duration, Instant};

/// PostgreSQL's `lock_not_available`: a lock wait ran out (`lock_timeout`,
/// `NOWAIT`).
pub const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Retries when a change lock timeout is set and no count is given.
pub const DEFAULT_RETRIES: u32 = 5;
/// The wait before the first retry; each next one doubles, up to [`MAX_WAIT`].
pub const FIRST_WAIT: Duration = Duration::from_secs(1);
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// How often the watch asks who blocks the change (at most; a shorter
/// timeout is polled four times per attempt).
pub const POLL: Duration = Duration::from_millis(25);

/// How changes wait for locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockPolicy {
    /// `lock_timeout` for each change's statements; `None`: the session's own.
    pub timeout: Option<Duration>,
    /// How many times a change that timed out is run again.
    pub retries: u32,
}

impl LockPolicy {
    /// `timeout` (0 means none) and `retries`, defaulting to
    /// [`DEFAULT_RETRIES`] when a timeout is set, else 0.
    pub fn new(timeout: Option<Duration>, retries: Option<u32>) -> LockPolicy {
        let timeout = timeout.filter(|t| !t.is_zero());
        LockPolicy {
            timeout,
            retries: retries.unwrap_or(if timeout.is_some() {
                DEFAULT_RETRIES
            } else {
                0
            }),
        }
    }

    /// Whether anything differs from a plain run.
    pub fn is_active(&self) -> bool {
        self.timeout.is_some() || self.retries > 0
    }

    /// The wait before retry `n` (1-based): 1 s, 2 s, 4 s, ... up to 30 s.
    pub fn wait_before(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1).min(16));
        FIRST_WAIT.saturating_mul(factor).min(MAX_WAIT)
    }

    /// How often to ask who blocks: [`POLL`], or a quarter of a shorter timeout.
    pub fn poll(&self) -> Duration {
        match self.timeout {
            Some(t) => (t / 4).clamp(Duration::from_millis(5), POLL),
            None => POLL,
        }
    }
}

/// What a change that gave up waiting for a lock went through.
#[derive(Debug, Clone, Serialize)]
pub struct LockWait {
    /// Runs of the change, the last one included.
    pub attempts: u32,
    pub retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout_ms: Option<u64>,
    /// Who blocked the last attempt, as seen while it waited.
    pub blockers: Vec<Blocker>,
    /// Why the change was not run again, when retries were left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_retried: Option<String>,
}

/// One lock timeout that will be retried, for the progress report.
#[derive(Debug, Clone, Serialize)]
pub struct LockRetry {
    pub package: String,
    pub change: String,
    pub path: String,
    /// The attempt that timed out (1-based), of `retries + 1`.
    pub attempt: u32,
    pub retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout_ms: Option<u64>,
    /// The server's message.
    pub error_message: String,
    pub retry_in_ms: u64,
    pub blockers: Vec<Blocker>,
}

/// The policy at work in an executor: the session's pid, and the watch.
pub struct Locks {
    policy: LockPolicy,
    pid: i32,
    /// None when the second connection could not be opened: the run goes
    /// on, its blockers unseen.
    watch: Option<Watch>,
}

impl Locks {
    /// Read `client`'s backend pid and open the watching connection.
    pub fn open(
        client: &mut postgres::Client,
        settings: &Settings,
        policy: LockPolicy,
    ) -> Result<Locks, Error> {
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(|e| Error::query("reading the session's pid", e))?
            .get(0);
        let watch = match settings.connect(None) {
            Ok(client) => Some(Watch::new(client, policy.poll())),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the connection that watches for blockers; blockers will not be named");
                None
            }
        };
        Ok(Locks { policy, pid, watch })
    }

    /// Run `work`, watching for blockers when the watch is there.
    fn during<T>(&mut self, work: impl FnOnce() -> T) -> (T, Vec<Blocker>) {
        match &mut self.watch {
            Some(watch) => watch.during(self.pid, work),
            None => (work(), Vec::new()),
        }
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.policy.timeout.map(|t| t.as_millis().max(1) as u64)
    }
}

/// The savepoint a change's scripts run after, to be run again.
const SAVEPOINT: &str = "jobsctl_change";

fn is_lock_timeout(failure: &ScriptFailure) -> bool {
    failure.sqlstate.as_deref() == Some(LOCK_NOT_AVAILABLE)
}

impl Executor<'_> {
    /// The change's scripts, in the open transaction or (`outside`) outside
    /// any, statement by statement. Under a lock policy: inside, after a
    /// savepoint with the change's `lock_timeout`, run again from the
    /// savepoint after a lock timeout while retries are left; outside, with
    /// the `lock_timeout` for the session, run again only when nothing had
    /// run yet and the statement that timed out is an ordinary one.
    pub(super) fn run_change(
        &mut self,
        item: &Work,
        outside: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let (package, change) = (item.package.name.as_str(), item.change.name.as_str());
        let files: Vec<&SqlFile> = item.undo_first.iter().copied().chain(item.script).collect();
        let Some(mut locks) = self.locks.take() else {
            for file in files {
                if outside {
                    self.run_outside_transaction(package, change, file)
                } else {
                    self.run_in_transaction(package, change, file)
                }
                .map_err(Error::ChangeFailed)?;
            }
            return Ok(());
        };
        let outcome = if outside {
            self.outside_with_retries(&mut locks, package, change, &files, progress)
        } else {
            self.inside_with_retries(&mut locks, package, change, &files, progress)
        };
        self.locks = Some(locks);
        outcome
    }

    fn inside_with_retries(
        &mut self,
        locks: &mut Locks,
        package: &str,
        change: &str,
        files: &[&SqlFile],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let savepoint = locks.policy.retries > 0;
        let mut attempt = 1;
        loop {
            if savepoint {
                self.simple(&format!("SAVEPOINT {SAVEPOINT}"), "setting a savepoint")?;
            }
            if let Some(ms) = locks.timeout_ms() {
                self.dirty = true;
                self.simple(
                    &format!("SET LOCAL lock_timeout = {ms}"),
                    "setting the change's lock_timeout",
                )?;
            }
            let (outcome, blockers) = locks.during(|| {
                files
                    .iter()
                    .try_for_each(|file| self.run_in_transaction(package, change, file))
            });
            let mut failure = match outcome {
                Ok(()) => {
                    if savepoint {
                        self.simple(
                            &format!("RELEASE SAVEPOINT {SAVEPOINT}"),
                            "releasing a savepoint",
                        )?;
                    }
                    return Ok(());
                }
                Err(failure) if !is_lock_timeout(&failure) => {
                    return Err(Error::ChangeFailed(failure));
                }
                Err(failure) => failure,
            };
            if attempt > locks.policy.retries {
                failure.lock_wait = Some(LockWait {
                    attempts: attempt,
                    retries: locks.policy.retries,
                    lock_timeout_ms: locks.timeout_ms(),
                    blockers,
                    not_retried: None,
                });
                return Err(Error::ChangeFailed(failure));
            }
            self.simple(
                &format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"),
                "rolling back to the savepoint",
            )?;
            self.dirty = true;
            self.pause(locks, &failure, attempt, blockers, progress)?;
            attempt += 1;
        }
    }

    fn outside_with_retries(
        &mut self,
        locks: &mut Locks,
        package: &str,
        change: &str,
        files: &[&SqlFile],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let mut attempt = 1;
        loop {
            if let Some(ms) = locks.timeout_ms() {
                self.dirty = true;
                self.simple(
                    &format!("SET lock_timeout = {ms}"),
                    "setting the change's lock_timeout",
                )?;
            }
            // Statements that completed, and what the failing one was.
            let mut ran = 0usize;
            let mut failed_kind: Option<String> = None;
            let (outcome, blockers) = locks.during(|| {
                for file in files {
                    self.dirty = true;
                    for statement in &file.script.statements {
                        if let StatementKind::TransactionControl(_) = statement.kind {
                            continue;
                        }
                        let text = file.script.statement_text(statement);
                        if let Err(e) = self.client.batch_execute(text) {
                            if let StatementKind::NonTransactional(name) = &statement.kind {
                                failed_kind = Some(name.clone());
                            }
                            return Err(Box::new(ScriptFailure::new(
                                package,
                                change,
                                file,
                                Some(statement),
                                &e,
                            )));
                        }
                        ran += 1;
                    }
                }
                Ok(())
            });
            let mut failure = match outcome {
                Ok(()) => return Ok(()),
                Err(failure) if !is_lock_timeout(&failure) => {
                    return Err(Error::ChangeFailed(failure));
                }
                Err(failure) => failure,
            };
            let not_retried = if ran > 0 {
                Some(format!(
                    "the change runs outside a transaction and {} of it had run already, which cannot be undone; make the script re-runnable (IF NOT EXISTS) and deploy again",
                    crate::text::plural(ran, "statement")
                ))
            } else {
                failed_kind.map(|name| format!(
                    "{name} outside a transaction can fail after it has changed something (an INVALID index, say); check, then deploy again"
                ))
            };
            if attempt > locks.policy.retries || not_retried.is_some() {
                failure.lock_wait = Some(LockWait {
                    attempts: attempt,
                    retries: locks.policy.retries,
                    lock_timeout_ms: locks.timeout_ms(),
                    blockers,
                    not_retried: not_retried.filter(|_| attempt <= locks.policy.retries),
                });
                return Err(Error::ChangeFailed(failure));
            }
            self.reset_session()?;
            self.pause(locks, &failure, attempt, blockers, progress)?;
            attempt += 1;
        }
    }

    /// Say who blocked attempt `attempt`, and wait before the next one
    /// (Ctrl-C ends the wait).
    fn pause(
        &mut self,
        locks: &Locks,
        failure: &ScriptFailure,
        attempt: u32,
        blockers: Vec<Blocker>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let wait = locks.policy.wait_before(attempt);
        tracing::info!(
            package = %failure.package,
            change = %failure.change,
            attempt,
            wait_ms = wait.as_millis() as u64,
            "lock timeout: the change runs again after a pause"
        );
        progress(Progress::LockRetry(LockRetry {
            package: failure.package.clone(),
            change: failure.change.clone(),
            path: failure.path.clone(),
            attempt,
            retries: locks.policy.retries,
            lock_timeout_ms: locks.timeout_ms(),
            error_message: failure.message.clone(),
            retry_in_ms: wait.as_millis() as u64,
            blockers,
        }));
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if interrupt::is_interrupted() {
                return Err(Error::Interrupted);
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        Ok(())
    }
}

/// A duration as flags and jobsctl.toml write it: a number and a unit,
/// `ms`, `s`, `m` or `h` (`500ms`, `5s`, `1.5s`, `2m`); `0` alone is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let wrong = || format!("`{text}`: expected a duration like 500ms, 5s or 2m");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(wrong)?;
    let (number, unit) = text.split_at(at);
    let number: f64 = number.parse().map_err(|_| wrong())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(wrong()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| wrong())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = LockPolicy::new(Some(Duration::from_secs(1)), None);
        assert_eq!(policy.retries, DEFAULT_RETRIES);
        let waits: Vec<u64> = (1..=7).map(|n| policy.wait_before(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(LockPolicy::new(None, None).retries, 0);
        assert!(!LockPolicy::new(Some(Duration::ZERO), None).is_active());
    }
}
