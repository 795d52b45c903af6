//! One function per subcommand: turn parsed arguments into calls of the
//! library modules and hand the result to the printer.

mod deploy;
mod plan;
mod scaffold;

use crate::cli::{Cli, Command, WorkspaceArgs};
use crate::error::Error;
use crate::output::Printer;
use crate::package::{Problems, Source, Workspace, load_workspace};
use crate::resolve::{Resolution, resolve};

pub fn run(cli: Cli, printer: &Printer) -> Result<(), Error> {
    let format = cli.global.format;
    match cli.command {
        Command::Plan(args) => plan::run(&args, printer),
        Command::Deploy(args) => deploy::run_deploy(&args, printer),
        Command::Revert(args) => deploy::run_revert(&args, printer),
        Command::Verify(args) => deploy::run_verify(&args, printer),
        Command::Status(args) => deploy::run_status(&args, printer),
        Command::Log(args) => deploy::run_log(&args, printer),
        Command::Init(args) => scaffold::run_init(&args, format, printer),
        Command::Add(args) => scaffold::run_add(&args, format, printer),
        Command::Tag(args) => scaffold::run_tag(&args, format, printer),
        Command::Export(args) => scaffold::run_export(&args, format, printer),
        Command::Bundle(args) => scaffold::run_bundle(&args, format, printer),
    }
}

/// The workspace the command works on, loaded and resolved; every problem
/// of every package is reported together.
fn open_workspace(args: &WorkspaceArgs) -> Result<(Workspace, Resolution), Error> {
    let source = match &args.workspace {
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
    let (workspace, mut problems) = load_workspace(source);
    let resolution = resolve(&workspace, &args.packages);
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
