//! Who is blocking a session's lock request: the sessions
//! `pg_blocking_pids(pid)` names, described from `pg_stat_activity`.
//!
//! A session that has given up waiting (`lock_timeout`, SQLSTATE 55P03) no
//! longer waits, so asking afterwards finds nobody. [`Watch`] therefore
//! asks *while* the statement runs: a second connection, on a thread of
//! its own, looks every few milliseconds whether the working session waits
//! for a lock (`pg_stat_activity.wait_event_type = 'Lock'`) and, while it
//! does, asks `pg_blocking_pids` who holds it up, keeping the last set of
//! blockers it saw; the caller gets that set when its work ends, whether
//! it succeeded or timed out.

use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How many characters of the blocker's query are shown.
pub const QUERY_EXCERPT: usize = 80;

/// A session that held a lock ours was waiting for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    /// `usename`; empty when the server does not say.
    pub user: String,
    pub application_name: String,
    /// `active`, `idle in transaction`, ...; empty when not visible.
    pub state: String,
    /// Seconds since the blocker's transaction began; `None` outside a
    /// transaction or when not visible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_age_s: Option<f64>,
    /// The first [`QUERY_EXCERPT`] characters of its current or last
    /// query, on one line.
    pub query: String,
    /// What our session waited for when the blocker was seen, e.g.
    /// `AccessExclusiveLock on relation public.t`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
}

impl Blocker {
    /// One line: `pid 123 (user alice, application psql, idle in
    /// transaction, transaction 12.3 s old): LOCK TABLE t IN ACCESS ...`.
    pub fn describe(&self) -> String {
        let or = |text: &str, missing: &str| {
            if text.is_empty() {
                missing.to_owned()
            } else {
                text.to_owned()
            }
        };
        let mut facts = vec![
            format!("user {}", or(&self.user, "unknown")),
            format!("application {}", or(&self.application_name, "(none)")),
            or(&self.state, "state unknown"),
        ];
        if let Some(age) = self.transaction_age_s {
            facts.push(format!("transaction {age:.1} s old"));
        }
        let query = if self.query.is_empty() {
            "(query not visible)".to_owned()
        } else {
            self.query.clone()
        };
        format!("pid {} ({}): {query}", self.pid, facts.join(", "))
    }
}

/// Every blocker, described; `nobody seen` when there is none.
pub fn describe_all(blockers: &[Blocker]) -> String {
    if blockers.is_empty() {
        return "no blocker seen (it may have gone, or the wait was too short to observe)"
            .to_owned();
    }
    blockers
        .iter()
        .map(Blocker::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `text` on one line (runs of whitespace become one space), cut to `max`
/// characters with `...` when longer.
pub fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", cut.trim_end())
}

/// The sessions blocking `pid` now (empty when it waits for nothing).
pub fn blockers_of(
    client: &mut postgres::Client,
    pid: i32,
) -> Result<Vec<Blocker>, postgres::Error> {
    let rows = client.query(
        "SELECT a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), \
                coalesce(a.state, ''), \
                extract(epoch FROM clock_timestamp() - a.xact_start)::float8, \
                coalesce(a.query, ''), \
                (SELECT l.mode || ' on ' || l.locktype || \
                        coalesce(' ' || l.relation::regclass::text, '') \
                   FROM pg_catalog.pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1) \
           FROM pg_catalog.pg_stat_activity a \
          WHERE a.pid = ANY (pg_catalog.pg_blocking_pids($1)) \
          ORDER BY a.pid",
        &[&pid],
    )?;
    Ok(rows
        .iter()
        .map(|row| Blocker {
            pid: row.get(0),
            user: row.get(1),
            application_name: row.get(2),
            state: row.get(3),
            transaction_age_s: row.get(4),
            query: excerpt(row.get::<_, &str>(5), QUERY_EXCERPT),
            waiting_for: row.get(6),
        })
        .collect())
}

/// Whether `pid` waits for a heavyweight lock now.
fn waits_for_lock(client: &mut postgres::Client, pid: i32) -> bool {
    client
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
            &[&pid],
        )
        .is_ok_and(|row| row.is_some())
}

/// A second connection that watches a session for blockers while it works.
pub struct Watch {
    client: postgres::Client,
    poll: Duration,
}

impl Watch {
    /// Watch with `client` (a connection of its own, to the same database),
    /// asking every `poll`.
    pub fn new(client: postgres::Client, poll: Duration) -> Watch {
        Watch { client, poll }
    }

    /// Run `work` while polling who blocks `pid`; returns its result and
    /// the last non-empty set of blockers seen (empty when none was).
    /// Errors of the watching connection are ignored: the watch is a
    /// diagnosis, never a reason to fail the work.
    pub fn during<T>(&mut self, pid: i32, work: impl FnOnce() -> T) -> (T, Vec<Blocker>) {
        let done = AtomicBool::new(false);
        let (client, poll, done) = (&mut self.client, self.poll, &done);
        std::thread::scope(|scope| {
            let watcher = scope.spawn(move || {
                let mut seen = Vec::new();
                loop {
                    std::thread::park_timeout(poll);
                    if done.load(Ordering::SeqCst) {
                        return seen;
                    }
                    // pg_blocking_pids needs the lock manager's shared state
                    // to itself for a moment: asked only while the session
                    // waits for a heavyweight lock (pg_stat_activity is cheap).
                    if waits_for_lock(client, pid)
                        && let Ok(now) = blockers_of(client, pid)
                        && !now.is_empty()
                    {
                        seen = now;
                    }
                }
            });
            let result = work();
            done.store(true, Ordering::SeqCst);
            watcher.thread().unpark();
            let seen = watcher.join().unwrap_or_default();
            (result, seen)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_cut() {
        assert_eq!(
            excerpt("LOCK TABLE t\n  IN ACCESS EXCLUSIVE MODE", 80),
            "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"
        );
        let long = "x".repeat(100);
        let cut = excerpt(&long, 80);
        assert_eq!(cut.chars().count(), 80);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn a_blocker_is_described_on_one_line() {
        let blocker = Blocker {
            pid: 42,
            user: "alice".into(),
            application_name: "psql".into(),
            state: "idle in transaction".into(),
            transaction_age_s: Some(3.25),
            query: "LOCK TABLE t".into(),
            waiting_for: None,
        };
        assert_eq!(
            blocker.describe(),
            "pid 42 (user alice, application psql, idle in transaction, transaction 3.2 s old): LOCK TABLE t"
        );
        assert!(describe_all(&[]).starts_with("no blocker seen"));
    }
}
