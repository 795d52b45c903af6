//! `jobsctl adopt`: the embedded workspace's plan (pgpm-jobs and its
//! dependencies; never a workspace on disk: the conversion is written for
//! this pgpm-jobs), the database, the library call, the report. A refusal
//! is reported by the printer and exits with 1.

use super::project::Project;
use crate::adopt::{AdoptOptions, AdoptOutcome, adopt};
use crate::cli::AdoptArgs;
use crate::engine::plan::deploy_plan;
use crate::error::{Error, exit};
use crate::output::Printer;
use crate::package::{Source, load_workspace};
use crate::resolve::resolve;
use std::time::Duration;

pub fn run(project: &Project, args: &AdoptArgs, printer: &Printer) -> Result<(), Error> {
    let seconds = project.lock_timeout(args.lock_timeout);
    let lock_timeout = Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::Usage(format!(
            "--lock-timeout {seconds}: expected a number of seconds"
        ))
    })?;
    let (workspace, problems) = load_workspace(Source::embedded());
    if !problems.is_empty() {
        return Err(Error::InvalidWorkspace {
            workspace: workspace.source.describe(),
            problems,
        });
    }
    let resolution = resolve(&workspace, &["pgpm-jobs".to_owned()]).map_err(|problems| {
        Error::InvalidWorkspace {
            workspace: workspace.source.describe(),
            problems,
        }
    })?;
    let plan = deploy_plan(&workspace, &resolution);
    let (settings, _) = project.connection(&args.connection, printer)?;
    let options = AdoptOptions {
        dry_run: args.dry_run,
        lock_timeout,
        allow_role_changes: args.allow_role_changes,
    };
    printer.begin("adopt", &settings.describe());
    let report = adopt(
        &plan,
        &settings,
        &options,
        printer.notice_handler(),
        &mut |p| printer.progress(p),
    )?;
    printer.adopt_report(&report)?;
    if report.outcome == AdoptOutcome::Refused {
        return Err(Error::Exit(exit::FAILED));
    }
    Ok(())
}
