//! `revert`: deployed changes in reverse deploy order (all of the selected
//! packages, or those after `--to`), each revert script and the removal of
//! its registry rows in one transaction. A change that another deployed
//! change still needs is refused before anything runs.

use super::TxScope;
use super::execute::{Executor, Hooks, Work};
use super::lock_wait::LockPolicy;
use super::plan::{DeployPlan, TransactionMode};
use super::session::{Connection, Opening, Session};
use super::state::{ChangeStatus, State};
use super::{ChangeResult, Error, Outcome, Progress, target};
use crate::db::{NoticeHandler, Settings};
use crate::registry::{self, EventKind};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

pub struct RevertOptions {
    pub to: Option<String>,
    /// Only these packages' changes (`--package`); their dependencies stay.
    pub packages: Vec<String>,
    pub tx: TxScope,
    pub dry_run: bool,
    pub lock_timeout: Duration,
    /// The change lock timeout and retries (docs/locks.md).
    pub locks: LockPolicy,
}

#[derive(Debug, Serialize)]
pub struct RevertReport {
    pub database: String,
    pub changes: Vec<ChangeResult>,
    pub dry_run: bool,
    /// Deployed changes of these packages that the plan does not know and
    /// that therefore stay deployed (`package:change`).
    pub left_unknown: Vec<String>,
}

/// The changes a revert would undo, newest first, read without the lock
/// (for the confirmation prompt and --dry-run).
pub fn preview(
    plan: &DeployPlan,
    settings: &Settings,
    to: Option<&str>,
    packages: &[String],
) -> Result<Vec<String>, Error> {
    let target = to
        .map(|t| target::find(plan, t).map_err(Error::Usage))
        .transpose()?;
    let opening = Opening::read(None);
    let session = Session::open(plan, settings, opening, &mut |_| {})?;
    Ok(to_revert(&session.state, target, packages)
        .iter()
        .map(|c| format!("{}:{}", c.package.name, c.change.name))
        .collect())
}

pub fn revert(
    plan: &DeployPlan,
    settings: &Settings,
    options: &RevertOptions,
    notices: NoticeHandler,
    progress: &mut dyn FnMut(Progress),
) -> Result<RevertReport, Error> {
    let target = options
        .to
        .as_deref()
        .map(|t| target::find(plan, t).map_err(Error::Usage))
        .transpose()?;
    let mut report = RevertReport {
        database: settings.describe(),
        changes: Vec::new(),
        dry_run: options.dry_run,
        left_unknown: Vec::new(),
    };
    let opening = Opening {
        lock: (!options.dry_run).then_some(options.lock_timeout),
        connection: Connection::Scripts(notices),
        install_registry: false,
    };
    let mut session = Session::open(plan, settings, opening, progress)?;
    let state = &session.state;
    let client = session
        .client
        .as_mut()
        .expect("a session's database exists");
    let outcome = (|| {
        if !session.has_registry {
            return Ok(());
        }
        let todo = to_revert(state, target, &options.packages);
        check_dependents(client, &todo)?;
        if target.is_none() {
            report.left_unknown = state
                .unknown
                .iter()
                .map(|d| format!("{}:{}", d.package, d.change_name))
                .collect();
        }
        if options.dry_run {
            for status in &todo {
                report.changes.push(result(status, Outcome::Planned));
                progress(Progress::Change(
                    report.changes.last().expect("just pushed"),
                ));
            }
            return Ok(());
        }
        run(client, settings, &todo, options, &mut report, progress)
    })();
    session.release();
    outcome.map(|()| report)
}

/// Deployed changes after the target (or all), newest first; only those
/// of `packages` when it is not empty.
fn to_revert<'s>(
    state: &'s State<'s>,
    target: Option<usize>,
    packages: &[String],
) -> Vec<&'s ChangeStatus<'s>> {
    let start = target.map_or(0, |i| i + 1);
    state.changes[start.min(state.changes.len())..]
        .iter()
        .rev()
        .filter(|c| c.state.is_deployed())
        .filter(|c| packages.is_empty() || packages.contains(&c.package.name))
        .collect()
}

/// Refuse when a deployed change outside this run requires one inside it.
fn check_dependents(client: &mut postgres::Client, todo: &[&ChangeStatus]) -> Result<(), Error> {
    let reverting: HashSet<String> = todo
        .iter()
        .map(|c| format!("{}:{}", c.package.name, c.change.name))
        .collect();
    for status in todo {
        let dependents: Vec<String> =
            registry::dependents(client, &status.package.name, &status.change.name)?
                .into_iter()
                .filter(|d| !reverting.contains(d))
                .collect();
        if !dependents.is_empty() {
            return Err(Error::RevertBlocked {
                change: format!("{}:{}", status.package.name, status.change.name),
                dependents,
            });
        }
    }
    Ok(())
}

fn result(status: &ChangeStatus, outcome: Outcome) -> ChangeResult {
    ChangeResult {
        package: status.package.name.clone(),
        change: status.change.name.clone(),
        outcome,
        duration_ms: 0,
        transaction: "transaction",
    }
}

fn run(
    client: &mut postgres::Client,
    settings: &Settings,
    todo: &[&ChangeStatus],
    options: &RevertOptions,
    report: &mut RevertReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let work: Vec<Work> = todo
        .iter()
        .map(|status| {
            let revert = &status.change.scripts.revert;
            Work {
                package: status.package,
                change: status.change,
                replaces: false,
                undo_first: None,
                script: Some(revert),
                outside: matches!(TransactionMode::of(revert), TransactionMode::None { .. }),
            }
        })
        .collect();
    let hooks = Hooks {
        outcome: Outcome::Reverted,
        event: EventKind::Revert,
        before: &mut |_: &mut Executor, _: &Work| Ok(()),
        record: &mut |client: &mut postgres::Client, item: &Work| {
            Ok(registry::record_revert(
                client,
                &item.package.name,
                &item.change.name,
            )?)
        },
        record_sql: None,
    };
    Executor::new(client, options.tx)
        .with_lock_policy(settings, options.locks)?
        .apply(&work, hooks, &mut report.changes, progress)
}
