//! One function per subcommand: turn parsed arguments into calls of the
//! library modules and hand the result to the printer. `project` merges
//! flags with jobsctl.toml and picks the database.

mod adopt;
mod bench;
mod deploy;
mod dev;
mod jobs;
mod lint;
mod meta;
mod plan;
pub mod project;
mod scaffold;
mod schedule;
mod worker;

use crate::cli::{Cli, Command, WorkspaceArgs};
use crate::error::Error;
use crate::output::Printer;
use crate::package::{Problems, Source, Workspace, load_workspace};
use crate::resolve::{Resolution, resolve};
use project::Project;

pub fn run(cli: Cli, printer: &Printer) -> Result<(), Error> {
    let global = &cli.global;
    let load = |workspace: Option<&WorkspaceArgs>| {
        Project::load(global, workspace.and_then(|w| w.workspace.as_deref()))
    };
    match &cli.command {
        Command::Plan(args) => plan::run(&load(Some(&args.workspace))?, args, printer),
        Command::Lint(args) => {
            let project = load(Some(&args.workspace))?;
            lint::run(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Deploy(args) => {
            let project = load(Some(&args.workspace))?;
            deploy::run_deploy(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Revert(args) => {
            let project = load(Some(&args.workspace))?;
            deploy::run_revert(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Verify(args) => {
            let project = load(Some(&args.workspace))?;
            deploy::run_verify(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Status(args) => {
            let project = load(Some(&args.workspace))?;
            deploy::run_status(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Adopt(args) => {
            let project = load(None)?;
            adopt::run(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Log(args) => {
            let project = load(None)?;
            deploy::run_log(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Init(args) => scaffold::run_init(args, printer),
        Command::Add(args) => scaffold::run_add(args, printer),
        Command::Tag(args) => scaffold::run_tag(args, printer),
        Command::Export(args) => scaffold::run_export(args, printer),
        Command::Bundle(args) => scaffold::run_bundle(&load(Some(&args.workspace))?, args, printer),
        Command::Dev(args) => {
            let mut project = load(None)?;
            project.dev_dir = args.data_dir.clone();
            dev::run(&project, &args.command, printer)
        }
        Command::Completions(args) => meta::completions(args.shell),
        Command::Man(args) => meta::man(args),
        Command::Schedule(args) => {
            let project = load(None)?;
            schedule::run(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Bench(args) => {
            let project = load(None)?;
            bench::run(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Jobs(args) => {
            let project = load(None)?;
            jobs::run(&project, args, printer).map_err(|e| project.hint(e))
        }
        Command::Worker(args) => {
            let project = load(None)?;
            worker::run(&project, args, printer).map_err(|e| project.hint(e))
        }
    }
}

/// The workspace the command works on (the flag, `JOBSCTL_WORKSPACE`,
/// `[defaults] workspace`, else the embedded one), loaded and resolved;
/// every problem of every package is reported together.
fn open_workspace(
    project: &Project,
    args: &WorkspaceArgs,
    printer: &Printer,
) -> Result<(Workspace, Resolution), Error> {
    let dir = project.workspace(args.workspace.as_deref())?;
    tracing::debug!(workspace = ?dir, "workspace");
    let source = match &dir {
        None => Source::embedded(),
        Some(dir) if dir.is_dir() => Source::disk(dir),
        Some(dir) if dir.exists() => {
            return Err(Error::Usage(format!(
                "--workspace {}: not a folder",
                dir.display()
            )));
        }
        Some(dir) => {
            return Err(Error::Usage(format!(
                "--workspace {}: no such folder",
                dir.display()
            )));
        }
    };
    let (mut workspace, mut problems) = load_workspace(source);
    let warnings = std::mem::take(&mut workspace.warnings);
    if project.strict(args.strict) {
        problems.0.extend(warnings.0.into_iter().map(|mut w| {
            w.message.push_str(" (an error with --strict)");
            w
        }));
    } else {
        for warning in &warnings.0 {
            printer.workspace_warning(warning);
        }
    }
    let resolution = resolve(&workspace, &args.packages);
    if problems.is_empty()
        && let Ok(resolution) = &resolution
    {
        for package in workspace.embedded() {
            if resolution.packages.iter().any(|p| p.name == package.name) {
                printer.note(&format!(
                    "using jobsctl's embedded {} {} (the workspace has no package of that name)",
                    package.name,
                    package.version().unwrap_or("")
                ));
            }
        }
    }
    match resolution {
        Ok(resolution) if problems.is_empty() => Ok((workspace, resolution)),
        Ok(_) => Err(invalid(&workspace, problems)),
        Err(more) => {
            problems.0.extend(more.0);
            Err(invalid(&workspace, problems))
        }
    }
}

fn invalid(workspace: &Workspace, problems: Problems) -> Error {
    Error::InvalidWorkspace {
        workspace: workspace.source.describe(),
        problems,
    }
}
