//! `deploy`: take the lock, install the registry, re-read what is deployed,
//! and run each pending change (up to `--to`) in order, its script and its
//! registry rows in one transaction.

use super::execute::{Executor, Hooks, Work};
use super::lock::DeployLock;
use super::plan::{DeployPlan, TransactionMode};
use super::state::{ChangeState, ChangeStatus, State, compare};
use super::{ChangeResult, Drift, Error, Outcome, Progress, interrupt, target};
use crate::cli::TxScope;
use crate::db::{NoticeHandler, Settings};
use crate::package::Workspace;
use crate::registry::{self, EventKind};
use serde::Serialize;
use std::time::Duration;

pub struct DeployOptions {
    pub to: Option<String>,
    pub tx: TxScope,
    pub dry_run: bool,
    pub log_only: bool,
    pub accept_drift: bool,
    pub lock_timeout: Duration,
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub database: String,
    /// Registry migrations applied by this run.
    pub registry_migrations: Vec<String>,
    pub changes: Vec<ChangeResult>,
    pub dry_run: bool,
    pub log_only: bool,
}

pub fn deploy(
    workspace: &Workspace,
    plan: &DeployPlan,
    settings: &Settings,
    options: &DeployOptions,
    notices: NoticeHandler,
    progress: &mut dyn FnMut(Progress),
) -> Result<DeployReport, Error> {
    let target = options
        .to
        .as_deref()
        .map(|t| target::find(plan, t).map_err(Error::Usage))
        .transpose()?;
    let mut report = DeployReport {
        database: settings.describe(),
        registry_migrations: Vec::new(),
        changes: Vec::new(),
        dry_run: options.dry_run,
        log_only: options.log_only,
    };
    if options.dry_run {
        // A database that does not exist yet (`--createdb --dry-run`) has nothing deployed.
        let deployed = match settings.connect(Some(notices)) {
            Ok(mut client) => read_deployed(&mut client)?,
            Err(e) if e.sqlstate() == Some("3D000") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let state = compare(plan, &deployed);
        for status in pending(&state, target, options.accept_drift)? {
            report.changes.push(result(status, Outcome::Planned));
            progress(Progress::Change(
                report.changes.last().expect("just pushed"),
            ));
        }
        return Ok(report);
    }

    interrupt::install();
    let lock = DeployLock::acquire(settings, options.lock_timeout, |holder, waited| {
        progress(Progress::Waiting {
            holder: holder.as_ref().map(super::lock::describe),
            waited,
        })
    })?;
    let mut client = super::execute::open_session(settings, notices)?;
    report.registry_migrations = registry::install(&mut client)?.applied;
    // Read after the lock is won: another deployer may have just finished.
    let deployed = registry::deployed_changes(&mut client, None)?;
    let state = compare(plan, &deployed);
    let todo = pending(&state, target, options.accept_drift)?;
    let outcome = run(
        workspace,
        plan,
        &mut client,
        &todo,
        options,
        &mut report,
        progress,
    );
    lock.release();
    outcome.map(|()| report)
}

fn read_deployed(client: &mut postgres::Client) -> Result<Vec<registry::DeployedChange>, Error> {
    if registry::exists(client)? {
        Ok(registry::deployed_changes(client, None)?)
    } else {
        Ok(Vec::new())
    }
}

/// The pending changes up to and including the target, in order; drift
/// among the changes in range stops everything unless accepted.
fn pending<'s>(
    state: &'s State<'s>,
    target: Option<usize>,
    accept_drift: bool,
) -> Result<Vec<&'s ChangeStatus<'s>>, Error> {
    let range = match target {
        Some(index) => &state.changes[..=index],
        None => &state.changes[..],
    };
    let drift: Vec<Drift> = range
        .iter()
        .filter_map(|c| match &c.state {
            ChangeState::Drifted { deployed_hash, .. } => Some(Drift {
                package: c.package.to_owned(),
                change: c.change.name.clone(),
                deployed_hash: deployed_hash.clone(),
                local_hash: c.change.script_hash.clone(),
                path: c.change.deploy.clone(),
            }),
            _ => None,
        })
        .collect();
    if !drift.is_empty() && !accept_drift {
        return Err(Error::Drift { drift });
    }
    // An already deployed target means there is nothing to do, exactly.
    if target.is_some_and(|i| state.changes[i].state.is_deployed()) {
        return Ok(Vec::new());
    }
    Ok(range
        .iter()
        .filter(|c| c.state == ChangeState::Pending)
        .collect())
}

fn result(status: &ChangeStatus, outcome: Outcome) -> ChangeResult {
    ChangeResult {
        package: status.package.to_owned(),
        change: status.change.name.clone(),
        outcome,
        duration_ms: 0,
        transaction: match status.change.transaction {
            TransactionMode::Transactional { .. } => "transaction",
            TransactionMode::None { .. } => "none",
        },
    }
}

fn run(
    workspace: &Workspace,
    plan: &DeployPlan,
    client: &mut postgres::Client,
    todo: &[&ChangeStatus],
    options: &DeployOptions,
    report: &mut DeployReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let work: Vec<Work> = todo
        .iter()
        .map(|status| {
            let scripts = workspace
                .package(status.package)
                .and_then(|p| p.scripts_of(&status.change.name))
                .expect("planned changes have scripts");
            Work {
                package: status.package,
                change: &status.change.name,
                script: (!options.log_only).then_some(&scripts.deploy),
                outside: matches!(status.change.transaction, TransactionMode::None { .. })
                    && !options.log_only,
            }
        })
        .collect();
    let mut extensions_done: Vec<String> = Vec::new();
    let mut before = |executor: &mut Executor, item: &Work| {
        if options.log_only || extensions_done.iter().any(|p| p == item.package) {
            return Ok(());
        }
        extensions_done.push(item.package.to_owned());
        executor.create_extensions(plan.extensions_of(item.package))
    };
    let mut record = |client: &mut postgres::Client, item: &Work| {
        let status = todo
            .iter()
            .find(|s| s.package == item.package && s.change.name == item.change)
            .expect("work comes from todo");
        Ok(registry::record_deploy(
            client,
            item.package,
            item.change,
            &status.change.script_hash,
            &status.change.requires,
        )?)
    };
    let hooks = Hooks {
        outcome: if options.log_only {
            Outcome::Logged
        } else {
            Outcome::Deployed
        },
        event: EventKind::Deploy,
        before: &mut before,
        record: &mut record,
    };
    Executor::new(client, options.tx).apply(&work, hooks, &mut report.changes, progress)
}
