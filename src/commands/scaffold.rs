//! `jobsctl init`, `add`, `tag`, `export` and `bundle`: the package
//! generator. The files written are the data, rendered by
//! `output::scaffold`; warnings and next steps are notes on stderr.

use crate::cli::{AddArgs, BundleArgs, ExportArgs, InitArgs, TagArgs};
use crate::error::Error;
use crate::output::Printer;
use crate::scaffold::add::{AddOptions, TagOptions, add, tag};
use crate::scaffold::bundle::{BundleOptions, BundleTarget, bundle};
use crate::scaffold::export::export;
use crate::scaffold::init::{InitOptions, init};
use crate::scaffold::planner::{now, resolve_planner};
use std::path::{Path, PathBuf};

pub fn run_init(args: &InitArgs, printer: &Printer) -> Result<(), Error> {
    let cwd = start_dir(args.directory.as_deref())?;
    let report = init(
        &cwd,
        &InitOptions {
            name: args.name.clone(),
            workspace: args.workspace,
            requires: args.requires.clone(),
            comment: args.comment.clone(),
        },
    )?;
    printer.init_report(&report)?;
    Ok(())
}

pub fn run_add(args: &AddArgs, printer: &Printer) -> Result<(), Error> {
    let dir = start_dir(args.package.package_dir.as_deref())?;
    let planner = resolve_planner(&dir)?;
    let report = add(
        &dir,
        &AddOptions {
            change: args.change.clone(),
            requires: args.requires.clone(),
            note: args.note.clone(),
        },
        &planner,
        now(),
    )?;
    printer.plan_edit(&report)?;
    Ok(())
}

pub fn run_tag(args: &TagArgs, printer: &Printer) -> Result<(), Error> {
    let dir = start_dir(args.package.package_dir.as_deref())?;
    let planner = resolve_planner(&dir)?;
    let report = tag(
        &dir,
        &TagOptions {
            name: args.name.clone(),
            change: args.change.clone(),
            note: args.note.clone(),
        },
        &planner,
        now(),
    )?;
    printer.plan_edit(&report)?;
    Ok(())
}

pub fn run_export(args: &ExportArgs, printer: &Printer) -> Result<(), Error> {
    let report = export(&args.dir, args.force)?;
    printer.export_report(&report)?;
    Ok(())
}

pub fn run_bundle(
    project: &super::project::Project,
    args: &BundleArgs,
    printer: &Printer,
) -> Result<(), Error> {
    let (workspace, resolution) = super::open_workspace(project, &args.workspace, printer)?;
    let target = match &args.single_file {
        Some(path) => BundleTarget::SingleFile(path.clone()),
        None => BundleTarget::Extensions(args.out.clone().unwrap_or_else(|| PathBuf::from("."))),
    };
    let report = bundle(
        &workspace,
        &resolution,
        &BundleOptions {
            target,
            force: args.force,
        },
    )?;
    printer.bundle_report(&report)?;
    Ok(())
}

/// The folder a command starts from: `-C DIR`, else the current folder.
fn start_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
    match given {
        Some(dir) if dir.is_dir() => Ok(dir.to_path_buf()),
        Some(dir) if dir.exists() => Err(Error::Usage(format!("{}: not a folder", dir.display()))),
        Some(dir) => Err(Error::Usage(format!("{}: no such folder", dir.display()))),
        None => std::env::current_dir()
            .map_err(|e| Error::Usage(format!("cannot tell the current folder: {e}"))),
    }
}
