//! `deploy`: take the lock, install the registry, re-read what is deployed
//! (`session`), and run each pending change (up to `--to`) in order, its
//! script and its registry rows in one transaction.

use super::TxScope;
use super::execute::{Executor, Hooks, Work};
use super::lock_wait::LockPolicy;
use super::plan::{DeployPlan, TransactionMode};
use super::session::{Opening, Session};
use super::state::{ChangeState, ChangeStatus, State};
use super::{ChangeResult, Drift, DriftPolicy, Error, Outcome, Progress, target};
use crate::db::{NoticeHandler, Settings};
use crate::package::Origin;
use crate::registry::{self, EventKind};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

pub struct DeployOptions {
    pub to: Option<String>,
    pub tx: TxScope,
    pub dry_run: bool,
    pub log_only: bool,
    /// Deploy past any drift, unchecked (`--accept-drift`).
    pub accept_drift: bool,
    /// Replace drifted changes with the local scripts (`--replace-drift`).
    pub replace_drift: bool,
    pub drift: DriftPolicies,
    pub lock_timeout: Duration,
    /// The change lock timeout and retries (docs/locks.md).
    pub locks: LockPolicy,
}

/// How drift is treated, package by package (docs/pgpm-compat.md).
#[derive(Debug, Clone, Default)]
pub struct DriftPolicies {
    /// `--strict`: drift anywhere is an error.
    pub strict: bool,
    /// `[packages.NAME] drift` of jobsctl.toml.
    pub configured: Vec<(String, DriftPolicy)>,
}

impl DriftPolicies {
    /// `error` with --strict; else the configured one; else `warn` for
    /// modules published by others (installed below `extensions/`, or
    /// embedded in jobsctl), whose deployed scripts change with each
    /// release and tool, and `error` for the workspace's own packages,
    /// where drift means a deployed script was edited.
    pub fn for_package(&self, package: &str, origin: Origin) -> DriftPolicy {
        if self.strict {
            return DriftPolicy::Error;
        }
        if let Some((_, policy)) = self.configured.iter().find(|(name, _)| name == package) {
            return *policy;
        }
        if origin.is_installed() {
            DriftPolicy::Warn
        } else {
            DriftPolicy::Error
        }
    }
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
    let opening = if options.dry_run {
        Opening::read_or_missing(notices)
    } else {
        Opening {
            install_registry: true,
            ..Opening::locked(options.lock_timeout, notices)
        }
    };
    let mut session = Session::open(plan, settings, opening, progress)?;
    report.registry_migrations = std::mem::take(&mut session.registry_migrations);
    let todo = pending(&session.state, target, options)?;
    let outcome = match &mut session.client {
        Some(client) => check_extensions(client, &todo.changes)
            .and_then(|()| check_kept_drift(client, &todo.kept, progress))
            .and_then(|()| {
                if options.dry_run {
                    planned(&todo.changes, &mut report, progress);
                    Ok(())
                } else {
                    run(
                        client,
                        settings,
                        &todo.changes,
                        options,
                        &mut report,
                        progress,
                    )
                }
            }),
        None => {
            planned(&todo.changes, &mut report, progress);
            Ok(())
        }
    };
    session.release();
    outcome.map(|()| report)
}

/// `--dry-run`: what would be deployed.
fn planned(todo: &[&ChangeStatus], report: &mut DeployReport, progress: &mut dyn FnMut(Progress)) {
    for status in todo {
        report.changes.push(result(status, Outcome::Planned));
        progress(Progress::Change(
            report.changes.last().expect("just pushed"),
        ));
    }
}

/// What a deploy will do: the pending changes to run (with the drifted
/// changes it replaces, in plan order), and the drifted changes it keeps as
/// deployed (their packages' drift policy is `warn`).
struct Todo<'s> {
    changes: Vec<&'s ChangeStatus<'s>>,
    kept: Vec<(&'s ChangeStatus<'s>, Drift)>,
}

/// The pending changes up to and including the target, in order. Drift
/// among the changes in range stops everything where its package's policy
/// is `error` (unless --accept-drift); where it is `warn`, the deployed
/// change is kept; where it is `replace` (or with --replace-drift), the
/// change is deployed again from the local scripts.
fn pending<'s>(
    state: &'s State<'s>,
    target: Option<usize>,
    options: &DeployOptions,
) -> Result<Todo<'s>, Error> {
    let range = match target {
        Some(index) => &state.changes[..=index],
        None => &state.changes[..],
    };
    let (mut refused, mut kept, mut replaced) = (Vec::new(), Vec::new(), Vec::new());
    for c in range {
        let ChangeState::Drifted { deployed_hash, .. } = &c.state else {
            continue;
        };
        let drift = Drift {
            package: c.package.name.clone(),
            change: c.change.name.clone(),
            deployed_hash: deployed_hash.clone(),
            local_hash: c.change.script_hash.clone(),
            path: c.change.deploy.clone(),
        };
        match options.drift.for_package(&c.package.name, c.package.origin) {
            _ if options.replace_drift => replaced.push(c),
            _ if options.accept_drift => {}
            DriftPolicy::Error => refused.push(drift),
            DriftPolicy::Warn => kept.push((c, drift)),
            DriftPolicy::Replace => replaced.push(c),
        }
    }
    if !refused.is_empty() {
        return Err(Error::Drift { drift: refused });
    }
    // An already deployed target means there is nothing to do, exactly.
    if target.is_some_and(|i| state.changes[i].state.is_deployed()) {
        return Ok(Todo {
            changes: Vec::new(),
            kept,
        });
    }
    Ok(Todo {
        changes: range
            .iter()
            .filter(|c| {
                c.state == ChangeState::Pending || replaced.iter().any(|r| std::ptr::eq(*r, *c))
            })
            .collect(),
        kept,
    })
}

/// Every native extension that a package with pending changes requires
/// must be installed or available on the server, or nothing runs.
pub(crate) fn check_extensions(
    client: &mut postgres::Client,
    todo: &[&ChangeStatus],
) -> Result<(), Error> {
    let mut needed: Vec<(&str, &str)> = Vec::new();
    for status in todo {
        for extension in &status.package.extensions {
            if !needed.iter().any(|(_, e)| e == extension) {
                needed.push((&status.package.name, extension));
            }
        }
    }
    if needed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = needed.iter().map(|(_, e)| *e).collect();
    let available: Vec<String> = client
        .query(
            "SELECT name FROM pg_catalog.pg_available_extensions WHERE name = ANY($1)
             UNION SELECT extname FROM pg_catalog.pg_extension WHERE extname = ANY($1)",
            &[&names],
        )
        .map_err(|e| Error::query("looking up available extensions", e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let missing: Vec<(String, String)> = needed
        .into_iter()
        .filter(|(_, e)| !available.iter().any(|a| a == e))
        .map(|(p, e)| (p.to_owned(), e.to_owned()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingExtensions { missing })
    }
}

/// Drifted changes kept as deployed are checked, not assumed: the local
/// verify script of each must pass against what is deployed (in a
/// transaction rolled back at once). Each package's kept drift is then
/// reported as a warning.
pub(crate) fn check_kept_drift(
    client: &mut postgres::Client,
    kept: &[(&ChangeStatus, Drift)],
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    if kept.is_empty() {
        return Ok(());
    }
    let mut executor = Executor::new(client, TxScope::Change);
    let mut failures = Vec::new();
    for (status, drift) in kept {
        executor.check_interrupt()?;
        executor.enter(&drift.package)?;
        let outcome = executor.run_in_transaction(
            &drift.package,
            &drift.change,
            &status.change.scripts.verify,
        );
        executor.rollback();
        if let Err(failure) = outcome {
            failures.push(*failure);
        }
    }
    let kept: Vec<&Drift> = kept.iter().map(|(_, drift)| drift).collect();
    if !failures.is_empty() {
        return Err(Error::DriftUnverified {
            drift: kept.into_iter().cloned().collect(),
            failures,
        });
    }
    let mut packages: Vec<&str> = kept.iter().map(|d| d.package.as_str()).collect();
    packages.dedup();
    for package in packages {
        let drift: Vec<Drift> = kept
            .iter()
            .filter(|d| d.package == package)
            .map(|d| (*d).clone())
            .collect();
        progress(Progress::KeptDrift {
            package: package.to_owned(),
            drift,
        });
    }
    Ok(())
}

fn result(status: &ChangeStatus, outcome: Outcome) -> ChangeResult {
    ChangeResult {
        package: status.package.name.clone(),
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
    client: &mut postgres::Client,
    settings: &Settings,
    todo: &[&ChangeStatus],
    options: &DeployOptions,
    report: &mut DeployReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let work: Vec<Work> = todo
        .iter()
        .map(|status| Work {
            package: status.package,
            change: status.change,
            replaces: status.state.is_deployed(),
            undo_first: (status.state.is_deployed() && !options.log_only)
                .then_some(&status.change.scripts.revert),
            script: (!options.log_only).then_some(&status.change.scripts.deploy),
            outside: matches!(status.change.transaction, TransactionMode::None { .. })
                && !options.log_only,
        })
        .collect();
    let mut extensions_done: Vec<String> = Vec::new();
    let mut before = |executor: &mut Executor, item: &Work| {
        let package = &item.package.name;
        if options.log_only || extensions_done.contains(package) {
            return Ok(());
        }
        extensions_done.push(package.clone());
        executor.create_extensions(&item.package.extensions)
    };
    let mut record = |client: &mut postgres::Client, item: &Work| {
        let record = if item.replaces {
            registry::record_replace
        } else {
            registry::record_deploy
        };
        Ok(record(
            client,
            &item.package.name,
            &item.change.name,
            &item.change.script_hash,
            &item.change.requires,
        )?)
    };
    // The registry's checks for every change at once (one round trip); each
    // change checked fine is then recorded in the round trip of its script.
    // A refused one takes the statement-by-statement path, which refuses
    // it after its script as before.
    let records: Vec<registry::PlannedRecord> = work
        .iter()
        .filter(|item| !item.replaces)
        .map(|item| registry::PlannedRecord {
            package: &item.package.name,
            change_name: &item.change.name,
            script_hash: &item.change.script_hash,
            requires: &item.change.requires,
        })
        .collect();
    let checked: HashMap<(&str, &str), bool> = registry::check_deploys(client, &records)?
        .into_iter()
        .zip(&records)
        .filter_map(|(answer, r)| Some(((r.package, r.change_name), answer.ok()?)))
        .collect();
    let mut record_sql = |item: &Work| -> Option<Option<String>> {
        let (package, change) = (item.package.name.as_str(), item.change.name.as_str());
        let record = *checked.get(&(package, change))?;
        Some(record.then(|| {
            registry::deploy_call(
                package,
                change,
                &item.change.script_hash,
                &item.change.requires,
            )
        }))
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
        record_sql: Some(&mut record_sql),
    };
    // --log-only runs no script: nothing waits for a lock.
    let locks = if options.log_only {
        LockPolicy::default()
    } else {
        options.locks
    };
    Executor::new(client, options.tx)
        .lazy_begin()
        .with_lock_policy(settings, locks)?
        .apply(&work, hooks, &mut report.changes, progress)
}
