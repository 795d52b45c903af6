//! The lock report: what each pending change of a plan locks, measured on
//! a real database.
//!
//! 1. Read what is deployed (no deploy lock, no registry install: the
//!    registry is only read).
//! 2. `BEGIN`; remember every relation that exists now (outside the
//!    system schemas): only those can block the application.
//! 3. Run each pending change's deploy script in that transaction (native
//!    extensions first, as a deploy would), with a `lock_timeout` so that
//!    the report never queues behind, and in front of, the application for
//!    long; after each change read the locks the session holds
//!    (`pg_locks`, `pid = pg_backend_pid()`, relation locks, granted) on
//!    the relations of step 2, and keep those that are new or stronger
//!    than before the change (locks accumulate in the transaction).
//!    A change that cannot run in a transaction (`CREATE INDEX
//!    CONCURRENTLY`, ...) is skipped, with the reason; a change that fails
//!    ends the run (the transaction is aborted), the rest is `not_run`.
//! 4. `ROLLBACK`, always: nothing stays, the registry included.
//! 5. Then, outside any transaction, so that the figures are the
//!    database's as it is: each reported relation's size
//!    (`pg_total_relation_size`) and rows (`reltuples`, or `count(*)` when
//!    the estimate is none or 0 and the table is at most 64 MB).
//!
//! ACCESS EXCLUSIVE on a table with rows is flagged: it blocks every read
//! and write of the table for as long as the change's transaction lasts.
//!
//! The changes really run: the report takes their locks on the database
//! it is pointed at, and lasts as long as they do.

use super::Error;
use crate::db::blockers::Watch;
use crate::db::{NoticeHandler, Settings};
use crate::engine::TxScope;
use crate::engine::execute::Executor;
use crate::engine::failure::ScriptFailure;
use crate::engine::lock_wait::LockWait;
use crate::engine::plan::{DeployPlan, TransactionMode};
use crate::engine::session::{Opening, Session};
use crate::engine::state::ChangeState;
use crate::engine::target;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The default `lock_timeout` of the report's changes.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// Never-analysed tables up to this size are counted.
pub const COUNT_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

pub struct ReportOptions {
    /// Up to and including this change (`--to`).
    pub to: Option<String>,
    /// `lock_timeout` for each change.
    pub lock_timeout: Duration,
}

#[derive(Debug, Serialize)]
pub struct LockReport {
    pub database: String,
    /// Always true: the run's transaction was rolled back.
    pub rolled_back: bool,
    pub changes: Vec<ChangeLocks>,
    /// How many locks are flagged.
    pub flagged: usize,
}

impl LockReport {
    /// A change failed, so the changes after it were not measured.
    pub fn incomplete(&self) -> bool {
        self.changes.iter().any(|c| c.status == Status::Failed)
    }
}

#[derive(Debug, Serialize)]
pub struct ChangeLocks {
    pub package: String,
    pub change: String,
    pub path: String,
    pub status: Status,
    /// Why it was skipped or not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScriptFailure>,
    /// Locks on pre-existing relations that this change took or made
    /// stronger, strongest first.
    pub locks: Vec<RelationLock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ran,
    /// Cannot run in the report's transaction.
    Skipped,
    Failed,
    /// After a failed change.
    NotRun,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelationLock {
    /// `schema.name`
    pub relation: String,
    /// `table`, `partitioned table`, `index`, `sequence`, `view`, ...
    pub kind: &'static str,
    /// PostgreSQL's name: `AccessExclusiveLock`, ...
    pub mode: String,
    /// The mode held before this change, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_mode: Option<String>,
    /// What the mode keeps other sessions from doing.
    pub blocks: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// Rows: the planner's estimate (`reltuples`), or counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    pub rows_counted: bool,
    pub flagged: bool,
}

/// A relation that existed before the run.
struct Existing {
    name: String,
    relkind: String,
}

/// Lock modes, weakest first.
const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn rank(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// What other sessions cannot do while `mode` is held on a table.
fn blocks(mode: &str) -> &'static str {
    match mode {
        "AccessExclusiveLock" => "all reads and writes",
        "ExclusiveLock" => "all writes (reads go on)",
        "ShareRowExclusiveLock" | "ShareLock" => "all writes (reads go on)",
        "ShareUpdateExclusiveLock" => "schema changes, VACUUM and concurrent index builds",
        "RowExclusiveLock" | "RowShareLock" => "schema changes and explicit table locks",
        _ => "schema changes that need ACCESS EXCLUSIVE",
    }
}

fn kind(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "m" => "materialized view",
        "i" => "index",
        "I" => "partitioned index",
        "S" => "sequence",
        "v" => "view",
        "f" => "foreign table",
        "t" => "TOAST table",
        "c" => "composite type",
        _ => "relation",
    }
}

fn is_table(relkind: &str) -> bool {
    matches!(relkind, "r" | "p" | "m")
}

/// Run the pending changes of `plan` (up to `options.to`) in one
/// transaction that is rolled back, and report the locks each takes on
/// relations that existed before.
pub fn report(
    plan: &DeployPlan,
    settings: &Settings,
    options: &ReportOptions,
    notices: NoticeHandler,
) -> Result<LockReport, Error> {
    let target = options
        .to
        .as_deref()
        .map(|t| target::find(plan, t).map_err(crate::engine::Error::Usage))
        .transpose()?;
    let mut session = Session::open(plan, settings, Opening::read(Some(notices)), &mut |_| {})?;
    let range = match target {
        Some(i) => &session.state.changes[..=i],
        None => &session.state.changes[..],
    };
    let pending: Vec<_> = range
        .iter()
        .filter(|c| c.state == ChangeState::Pending)
        .collect();
    let mut report = LockReport {
        database: settings.describe(),
        rolled_back: true,
        changes: Vec::new(),
        flagged: 0,
    };
    let client = session
        .client
        .as_mut()
        .expect("a read session has its database");
    let mut watch = Watch::new(
        settings.connect(None).map_err(crate::engine::Error::from)?,
        Duration::from_millis(25),
    );
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .map_err(|e| Error::query("reading the session's pid", e))?
        .get(0);
    // oid -> mode rank of every lock held on a pre-existing relation
    let mut held: HashMap<u32, usize> = HashMap::new();
    let mut existing: HashMap<u32, Existing> = HashMap::new();
    let mut executor = Executor::new(client, TxScope::All);
    let outcome = (|| -> Result<(), Error> {
        let mut extensions_done: Vec<&str> = Vec::new();
        let mut failed = false;
        for status in &pending {
            let (package, change) = (status.package, status.change);
            let mut entry = ChangeLocks {
                package: package.name.clone(),
                change: change.name.clone(),
                path: change.scripts.deploy.display_path.clone(),
                status: Status::Ran,
                reason: None,
                error: None,
                locks: Vec::new(),
            };
            if failed {
                entry.status = Status::NotRun;
                entry.reason = Some("an earlier change failed".into());
                report.changes.push(entry);
                continue;
            }
            if let TransactionMode::None { reason } = &change.transaction {
                entry.status = Status::Skipped;
                entry.reason = Some(format!(
                    "runs outside a transaction ({reason}), so it cannot run in the report's transaction; its locks are not measured"
                ));
                report.changes.push(entry);
                continue;
            }
            if !executor.in_transaction() {
                executor.enter(&package.name)?;
                existing = pre_existing(executor.client)?;
            }
            executor.enter(&package.name)?;
            if !extensions_done.contains(&package.name.as_str()) {
                extensions_done.push(&package.name);
                executor.create_extensions(&package.extensions)?;
            }
            let ms = options.lock_timeout.as_millis().max(1);
            executor.simple(
                &format!("SET LOCAL lock_timeout = {ms}"),
                "setting lock_timeout",
            )?;
            let (outcome, blockers) = watch.during(pid, || {
                executor.run_in_transaction(&package.name, &change.name, &change.scripts.deploy)
            });
            match outcome {
                Ok(()) => {
                    let now = session_locks(executor.client, &existing)?;
                    for (oid, mode) in &now {
                        let before = held.get(oid).copied();
                        if before.is_some_and(|b| b >= *mode) {
                            continue;
                        }
                        let relation = &existing[oid];
                        entry.locks.push(RelationLock {
                            relation: relation.name.clone(),
                            kind: kind(&relation.relkind),
                            mode: MODES[*mode].to_owned(),
                            previous_mode: before.map(|b| MODES[b].to_owned()),
                            blocks: blocks(MODES[*mode]),
                            size_bytes: None,
                            rows: None,
                            rows_counted: false,
                            flagged: false,
                        });
                    }
                    entry.locks.sort_by(|a, b| {
                        rank(&b.mode)
                            .cmp(&rank(&a.mode))
                            .then_with(|| a.relation.cmp(&b.relation))
                    });
                    held = now;
                }
                Err(mut failure) => {
                    if failure.sqlstate.as_deref()
                        == Some(crate::engine::lock_wait::LOCK_NOT_AVAILABLE)
                    {
                        failure.lock_wait = Some(LockWait {
                            attempts: 1,
                            retries: 0,
                            lock_timeout_ms: Some(ms as u64),
                            blockers,
                            not_retried: None,
                        });
                    }
                    entry.status = Status::Failed;
                    entry.error = Some(*failure);
                    failed = true;
                }
            }
            report.changes.push(entry);
        }
        Ok(())
    })();
    // Always: nothing of the run stays.
    executor.rollback();
    outcome?;
    let client = session
        .client
        .as_mut()
        .expect("a read session has its database");
    measure(client, &existing, &mut report)?;
    report.flagged = report
        .changes
        .iter()
        .flat_map(|c| &c.locks)
        .filter(|l| l.flagged)
        .count();
    Ok(report)
}

/// Every relation outside the system schemas, by oid.
fn pre_existing(client: &mut postgres::Client) -> Result<HashMap<u32, Existing>, Error> {
    let rows = client
        .query(
            "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind::text \
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
            &[],
        )
        .map_err(|e| Error::query("listing the existing relations", e))?;
    Ok(rows
        .iter()
        .map(|row| {
            (
                row.get::<_, u32>(0),
                Existing {
                    name: row.get(1),
                    relkind: row.get(2),
                },
            )
        })
        .collect())
}

/// The strongest relation lock the session holds on each pre-existing relation.
fn session_locks(
    client: &mut postgres::Client,
    existing: &HashMap<u32, Existing>,
) -> Result<HashMap<u32, usize>, Error> {
    let rows = client
        .query(
            "SELECT relation, mode FROM pg_catalog.pg_locks \
              WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted \
                AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
            &[],
        )
        .map_err(|e| Error::query("reading the session's locks", e))?;
    let mut held: HashMap<u32, usize> = HashMap::new();
    for row in &rows {
        let Some(oid) = row.get::<_, Option<u32>>(0) else {
            continue;
        };
        if !existing.contains_key(&oid) {
            continue;
        }
        let mode = rank(row.get(1));
        let strongest = held.entry(oid).or_insert(mode);
        *strongest = (*strongest).max(mode);
    }
    Ok(held)
}

/// Size and rows of every reported relation, read after the rollback (the
/// database as it is), and the flags.
fn measure(
    client: &mut postgres::Client,
    existing: &HashMap<u32, Existing>,
    report: &mut LockReport,
) -> Result<(), Error> {
    let by_name: BTreeMap<&str, u32> = existing
        .iter()
        .map(|(oid, e)| (e.name.as_str(), *oid))
        .collect();
    let mut figures: HashMap<u32, (Option<i64>, Option<i64>, bool)> = HashMap::new();
    for lock in report.changes.iter_mut().flat_map(|c| c.locks.iter_mut()) {
        let oid = by_name[lock.relation.as_str()];
        let (size, rows, counted) = match figures.entry(oid) {
            std::collections::hash_map::Entry::Occupied(known) => *known.get(),
            std::collections::hash_map::Entry::Vacant(slot) => *slot.insert(figures_of(
                client,
                oid,
                &lock.relation,
                &existing[&oid].relkind,
            )?),
        };
        lock.size_bytes = size;
        lock.rows = rows;
        lock.rows_counted = counted;
        let relkind = &existing[&oid].relkind;
        // Unknown rows on a big table count as rows.
        let has_rows = rows.map_or(size.unwrap_or(0) > COUNT_LIMIT_BYTES, |r| r > 0);
        lock.flagged = lock.mode == "AccessExclusiveLock" && is_table(relkind) && has_rows;
    }
    Ok(())
}

/// `(size, rows, counted)` of one relation; `None`s when it is gone.
fn figures_of(
    client: &mut postgres::Client,
    oid: u32,
    name: &str,
    relkind: &str,
) -> Result<(Option<i64>, Option<i64>, bool), Error> {
    // A partitioned table's figures are its partitions'.
    let row = client
        .query_opt(
            "SELECT CASE WHEN c.relkind = 'p' \
                         THEN (SELECT sum(pg_total_relation_size(t.relid))::int8 \
                                 FROM pg_partition_tree(c.oid) t) \
                         ELSE pg_total_relation_size(c.oid) END, \
                    CASE WHEN c.relkind = 'p' \
                         THEN (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0) \
                                 FROM pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class p ON p.oid = t.relid \
                                WHERE t.isleaf)::float8 \
                         ELSE c.reltuples::float8 END \
               FROM pg_catalog.pg_class c WHERE c.oid = $1",
            &[&oid],
        )
        .map_err(|e| Error::query(&format!("reading the size of {name}"), e))?;
    let Some(row) = row else {
        return Ok((None, None, false));
    };
    let size: Option<i64> = row.get(0);
    let reltuples: f64 = row.get(1);
    if reltuples > 0.0 {
        return Ok((size, Some(reltuples.round() as i64), false));
    }
    // Never analysed (-1 since PostgreSQL 14, 0 before), or an estimate of
    // no rows, which is cheap to check: count when the table is small.
    if matches!(relkind, "r" | "m" | "p") && size.is_some_and(|s| s <= COUNT_LIMIT_BYTES) {
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM {name}"), &[])
            .map_err(|e| Error::query(&format!("counting the rows of {name}"), e))?
            .get(0);
        return Ok((size, Some(count), true));
    }
    Ok((size, None, false))
}
