//! `jobsctl lock-report` (hidden; to become `lint --locks`): the lock
//! report of the pending changes, on a database named with -d only.

use super::project::Project;
use crate::cli::LockReportArgs;
use crate::engine::lock_wait::parse_duration;
use crate::engine::plan::deploy_plan;
use crate::error::Error;
use crate::locks::report::{DEFAULT_LOCK_TIMEOUT, ReportOptions, report};
use crate::output::Printer;

pub fn run(project: &Project, args: &LockReportArgs, printer: &Printer) -> Result<(), Error> {
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
        return Err(Error::Exit(crate::error::exit::FAILED));
    }
    Ok(())
}
