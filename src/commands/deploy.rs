//! `jobsctl deploy`, `revert`, `verify`, `status` and `log`: the commands
//! that talk to a database.

use super::project::Project;
use crate::cli::{
    ConnectionArgs, DeployArgs, LogArgs, RevertArgs, StatusArgs, VerifyArgs, WorkspaceArgs,
};
use crate::db::{self, CreateOutcome, Settings};
use crate::engine::deploy::{DeployOptions, deploy};
use crate::engine::plan::{DeployPlan, deploy_plan};
use crate::engine::revert::{RevertOptions, preview, revert};
use crate::engine::status::status;
use crate::engine::verify::verify;
use crate::error::Error;
use crate::output::Printer;
use crate::package::Workspace;
use crate::registry;
use crate::resolve::Resolution;
use crate::text::plural;
use std::io::IsTerminal;
use std::time::Duration;

/// What the database commands work on: the workspace, resolved, and the
/// database.
struct Context {
    workspace: Workspace,
    resolution: Resolution,
    settings: Settings,
}

impl Context {
    /// The deploy plan, which borrows the workspace's scripts.
    fn plan(&self) -> DeployPlan<'_> {
        deploy_plan(&self.workspace, &self.resolution)
    }
}

fn context(
    project: &Project,
    workspace: &WorkspaceArgs,
    connection: &ConnectionArgs,
    printer: &Printer,
) -> Result<Context, Error> {
    let (workspace, resolution) = super::open_workspace(project, workspace, printer)?;
    Ok(Context {
        workspace,
        resolution,
        settings: project.connection(connection, printer)?.0,
    })
}

fn lock_timeout(seconds: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::Usage(format!(
            "--lock-timeout {seconds}: expected a number of seconds"
        ))
    })
}

pub fn run_deploy(project: &Project, args: &DeployArgs, printer: &Printer) -> Result<(), Error> {
    let context = context(project, &args.workspace, &args.connection, printer)?;
    let (plan, settings) = (context.plan(), &context.settings);
    if args.log_only && args.dry_run {
        return Err(Error::Usage(
            "--log-only and --dry-run do not go together".into(),
        ));
    }
    if args.createdb && !args.dry_run {
        match db::create_database(settings).map_err(crate::engine::Error::from)? {
            CreateOutcome::Created => {
                printer.note(&format!("created database {}", settings.database()))
            }
            CreateOutcome::AlreadyExists => {}
        }
    }
    // The lint findings of the changes that will run (those the registry
    // says are pending); with --strict they stop the deploy before anything
    // runs. When the registry cannot be read the deploy itself reports why.
    if !args.log_only {
        match super::lint::deployed_changes(&plan, settings) {
            Ok(deployed) => {
                let strict = project.strict(args.workspace.strict);
                super::lint::check(project, &plan, &deployed, strict, printer)?;
            }
            Err(error) => tracing::debug!(%error, "lint skipped: the registry could not be read"),
        }
    }
    let options = DeployOptions {
        to: args.to.clone(),
        tx: project.tx(args.tx),
        dry_run: args.dry_run,
        log_only: args.log_only,
        accept_drift: args.accept_drift,
        replace_drift: args.replace_drift,
        drift: project.drift_policies(project.strict(args.workspace.strict)),
        lock_timeout: lock_timeout(project.lock_timeout(args.lock_timeout))?,
        locks: project.lock_policy(&args.change_locks)?,
    };
    printer.begin("deploy", &settings.describe());
    log_run(
        "deploy",
        settings,
        options.tx,
        options.lock_timeout,
        args.dry_run,
    );
    let report = deploy(
        &plan,
        settings,
        &options,
        printer.notice_handler(),
        &mut |p| printer.progress(p),
    );
    if let Ok(report) = &report
        && !report.dry_run
    {
        if report.registry_migrations.is_empty() {
            tracing::info!("registry up to date: no migration needed");
        } else {
            tracing::info!(migrations = ?report.registry_migrations, "registry migrations applied");
        }
        tracing::info!("deploy lock released");
    }
    printer.deploy_report(report)
}

/// What a run is about to do, for `-v`.
fn log_run(
    action: &str,
    settings: &Settings,
    tx: crate::engine::TxScope,
    timeout: Duration,
    dry_run: bool,
) {
    if dry_run {
        tracing::info!(database = %settings.describe(), "{action} --dry-run: reading the registry, no lock");
    } else {
        tracing::info!(
            database = %settings.describe(),
            tx = ?tx,
            lock_timeout_s = timeout.as_secs_f64(),
            "{action}: taking the deploy lock (session advisory lock {:#x})",
            crate::engine::lock::LOCK_KEY
        );
    }
}

pub fn run_revert(project: &Project, args: &RevertArgs, printer: &Printer) -> Result<(), Error> {
    let context = context(project, &args.workspace, &args.connection, printer)?;
    let (plan, settings) = (context.plan(), &context.settings);
    if !args.yes && !args.dry_run {
        let changes = preview(
            &plan,
            settings,
            args.to.as_deref(),
            &args.workspace.packages,
        )?;
        if changes.is_empty() {
            printer.note("nothing to revert");
            return printer.revert_report(Ok(crate::engine::revert::RevertReport {
                database: settings.describe(),
                changes: Vec::new(),
                dry_run: false,
                left_unknown: Vec::new(),
            }));
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "refusing to revert {} from {} without confirmation: pass -y (--yes)",
                plural(changes.len(), "change"),
                settings.describe()
            )));
        }
        if !printer.confirm(
            &format!(
                "Revert {} from {}?",
                plural(changes.len(), "change"),
                settings.describe()
            ),
            &changes,
        )? {
            return Err(Error::Usage("revert cancelled".into()));
        }
    }
    let options = RevertOptions {
        to: args.to.clone(),
        packages: args.workspace.packages.clone(),
        tx: project.tx(args.tx),
        dry_run: args.dry_run,
        lock_timeout: lock_timeout(project.lock_timeout(args.lock_timeout))?,
        locks: project.lock_policy(&args.change_locks)?,
    };
    printer.begin("revert", &settings.describe());
    log_run(
        "revert",
        settings,
        options.tx,
        options.lock_timeout,
        args.dry_run,
    );
    let report = revert(
        &plan,
        settings,
        &options,
        printer.notice_handler(),
        &mut |p| printer.progress(p),
    );
    printer.revert_report(report)
}

pub fn run_verify(project: &Project, args: &VerifyArgs, printer: &Printer) -> Result<(), Error> {
    let context = context(project, &args.workspace, &args.connection, printer)?;
    let (plan, settings) = (context.plan(), &context.settings);
    printer.begin("verify", &settings.describe());
    let report = verify(
        &plan,
        settings,
        args.to.as_deref(),
        printer.notice_handler(),
        &mut |p| printer.progress(p),
    );
    printer.verify_report(report)
}

pub fn run_status(project: &Project, args: &StatusArgs, printer: &Printer) -> Result<(), Error> {
    let context = context(project, &args.workspace, &args.connection, printer)?;
    let plan = context.plan();
    let report = status(&plan, &context.settings)?;
    printer.status_report(&report)?;
    let drift = project.drift_policies(project.strict(args.workspace.strict));
    if args.exit_code && !report.is_clean(&plan, &drift) {
        return Err(Error::NotClean);
    }
    Ok(())
}

pub fn run_log(project: &Project, args: &LogArgs, printer: &Printer) -> Result<(), Error> {
    let (settings, _) = project.connection(&args.connection, printer)?;
    let mut client = settings.connect(None).map_err(crate::engine::Error::from)?;
    let events = if registry::exists(&mut client).map_err(crate::engine::Error::from)? {
        registry::events(&mut client, args.package.as_deref(), args.limit)
            .map_err(crate::engine::Error::from)?
    } else {
        Vec::new()
    };
    printer.events(&events)?;
    Ok(())
}
