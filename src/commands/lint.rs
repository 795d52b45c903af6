//! `jobsctl lint`, and the lint step of `plan` and `deploy`: the plan's
//! pending changes handed to `lint`, the findings to the printer; and
//! `lint --locks`, the lock report (`locks::report`).

use super::project::Project;
use crate::cli::{ConnectionArgs, LintArgs};
use crate::db::Settings;
use crate::engine::lock_wait::parse_duration;
use crate::engine::plan::{DeployPlan, TransactionMode, deploy_plan};
use crate::engine::status::status;
use crate::error::{Error, exit};
use crate::lint::{LintReport, Severity, Unit, lint};
use crate::locks::report::{DEFAULT_LOCK_TIMEOUT, ReportOptions, report};
use crate::output::Printer;
use std::collections::HashSet;

pub fn run(project: &Project, args: &LintArgs, printer: &Printer) -> Result<(), Error> {
    if args.locks {
        return lock_report(project, args, printer);
    }
    let (workspace, resolution) = super::open_workspace(project, &args.workspace, printer)?;
    let plan = deploy_plan(&workspace, &resolution);
    let strict = project.strict(args.workspace.strict);
    let config = project.lint_config()?;
    let settings = database(project, &args.connection, printer)?;
    let deployed = match &settings {
        Some(settings) => deployed_changes(&plan, settings)?,
        None => HashSet::new(),
    };
    let report = lint_plan(&plan, &deployed, &config);
    let database = settings.as_ref().map(Settings::describe);
    printer.lint_report(
        &plan.workspace,
        database.as_deref(),
        &config.default_rules(),
        &report,
        strict,
    )?;
    if report.errors(strict) > 0 {
        return Err(Error::Exit(exit::FAILED));
    }
    Ok(())
}

/// Only an explicit -d/--target: lint never falls back to the environment
/// or the dev cluster, so that linting a workspace needs no database.
fn database(
    project: &Project,
    args: &ConnectionArgs,
    printer: &Printer,
) -> Result<Option<Settings>, Error> {
    if args.database_url.is_none() && args.target.is_none() {
        return Ok(None);
    }
    Ok(Some(project.connection(args, printer)?.0))
}

/// `(package, change)` of every deployed change of the plan, read from the
/// registry (none when there is no registry).
pub(super) fn deployed_changes(
    plan: &DeployPlan,
    settings: &Settings,
) -> Result<HashSet<(String, String)>, Error> {
    let report = status(plan, settings)?;
    let mut deployed = HashSet::new();
    for package in plan.packages() {
        let pending: HashSet<&str> = report
            .packages
            .iter()
            .filter(|p| p.name == package.name)
            .flat_map(|p| p.pending.iter().map(String::as_str))
            .collect();
        for change in &package.changes {
            if !pending.contains(change.name.as_str()) {
                deployed.insert((package.name.clone(), change.name.clone()));
            }
        }
    }
    Ok(deployed)
}

/// Lint every change of the plan that is not in `deployed`, in deploy order.
pub(super) fn lint_plan(
    plan: &DeployPlan,
    deployed: &HashSet<(String, String)>,
    config: &crate::lint::RuleConfig,
) -> LintReport {
    let units: Vec<Unit> = plan
        .packages()
        .flat_map(|package| {
            package.changes.iter().map(move |change| Unit {
                package: &package.name,
                change: &change.name,
                path: &change.deploy,
                script: &change.scripts.deploy.script,
                transactional: matches!(change.transaction, TransactionMode::Transactional { .. }),
                deployed: deployed.contains(&(package.name.clone(), change.name.clone())),
            })
        })
        .collect();
    lint(&units, config)
}

/// The lint step of `plan` and `deploy`: warnings printed, and an error
/// (nothing runs) when a finding is an error, every finding with `strict`.
pub(super) fn check(
    project: &Project,
    plan: &DeployPlan,
    deployed: &HashSet<(String, String)>,
    strict: bool,
    printer: &Printer,
) -> Result<(), Error> {
    let report = lint_plan(plan, deployed, &project.lint_config()?);
    let (errors, warnings): (Vec<_>, Vec<_>) = report
        .findings
        .into_iter()
        .partition(|f| strict || f.severity == Severity::Error);
    printer.lint_warnings(&warnings);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Lint { findings: errors })
    }
}

/// `lint --locks`: the lock report of the pending changes, on a database
/// named with -d only.
fn lock_report(project: &Project, args: &LintArgs, printer: &Printer) -> Result<(), Error> {
    // The changes really run (and take their locks) there: never on a
    // database the user did not name for it.
    if args.connection.target.is_some()
        || args
            .connection
            .database_url
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
    {
        return Err(Error::Usage(
            "the lock report runs the pending changes (in a transaction that is rolled back, but taking their locks): name its database with -d/--database-url; --target, DATABASE_URL, PG* variables, jobsctl.toml and the dev cluster are not used for it".into(),
        ));
    }
    let lock_timeout = match &args.lock_timeout {
        Some(text) => {
            parse_duration(text).map_err(|e| Error::Usage(format!("--lock-timeout {e}")))?
        }
        None => DEFAULT_LOCK_TIMEOUT,
    };
    let (workspace, resolution) = super::open_workspace(project, &args.workspace, printer)?;
    let plan = deploy_plan(&workspace, &resolution);
    let (settings, _) = project.connection(&args.connection, printer)?;
    let options = ReportOptions {
        to: args.to.clone(),
        lock_timeout,
    };
    let report = report(&plan, &settings, &options, printer.notice_handler())?;
    printer.lock_report(&report)?;
    if report.incomplete() {
        // The failure is in the report; the exit code says it is incomplete.
        return Err(Error::Exit(exit::FAILED));
    }
    Ok(())
}
