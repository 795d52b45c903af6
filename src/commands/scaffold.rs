//! `jobsctl init`, `add`, `tag`, `export` and `bundle`: the package
//! generator. The files written are the data (stdout, or one JSON
//! document); warnings and next steps are notes on stderr.

use crate::cli::{AddArgs, BundleArgs, ExportArgs, Format, InitArgs, TagArgs};
use crate::error::Error;
use crate::output::{DIM, HEADING, Printer, WARN};
use crate::scaffold::add::{AddOptions, PlanEdit, TagOptions, add, tag};
use crate::scaffold::bundle::{BundleOptions, BundleTarget, bundle};
use crate::scaffold::export::export;
use crate::scaffold::init::{Created, InitOptions, init};
use crate::scaffold::planner::{now, resolve_planner};
use crate::scaffold::{FileAction, Files};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub fn run_init(args: &InitArgs, format: Format, printer: &Printer) -> Result<(), Error> {
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
    warn(&report.warnings);
    if format == Format::Json {
        return json(&report);
    }
    let what = match report.created {
        Created::Package => "package",
        Created::Workspace => "workspace",
    };
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{HEADING}created {what} {}{HEADING:#} in {}",
        report.name,
        shown(&report.path)
    )?;
    files(&mut out, &report.files)?;
    match report.created {
        Created::Package => printer.note(&format!(
            "next: jobsctl add <change> -C {}",
            shown(&report.path)
        )),
        Created::Workspace => printer.note(&format!(
            "next: cd {} && jobsctl init <package>",
            shown(&report.path)
        )),
    }
    Ok(())
}

pub fn run_add(args: &AddArgs, format: Format, printer: &Printer) -> Result<(), Error> {
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
    plan_edit(&report, format, printer)
}

pub fn run_tag(args: &TagArgs, format: Format, printer: &Printer) -> Result<(), Error> {
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
    plan_edit(&report, format, printer)
}

fn plan_edit(report: &PlanEdit, format: Format, printer: &Printer) -> Result<(), Error> {
    warn(&report.warnings);
    if format == Format::Json {
        return json(report);
    }
    let mut out = anstream::stdout().lock();
    let what = match &report.tag {
        Some(tag) => format!("tagged {} as @{tag}", report.change),
        None => format!("added {}", report.change),
    };
    writeln!(
        out,
        "{HEADING}{what}{HEADING:#} in {} {DIM}({}:{}){DIM:#}",
        report.package,
        shown(&report.plan),
        report.line_number
    )?;
    writeln!(out, "  {}", report.line)?;
    files(&mut out, &report.files)?;
    if report.tag.is_none() {
        printer.note("next: write the SQL into the deploy, revert and verify scripts");
    }
    Ok(())
}

pub fn run_export(args: &ExportArgs, format: Format, printer: &Printer) -> Result<(), Error> {
    let report = export(&args.dir, args.force)?;
    if format == Format::Json {
        return json(&report);
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{HEADING}exported the embedded workspace{HEADING:#} to {} {DIM}({} files){DIM:#}",
        shown(&report.path),
        report.files.0.len()
    )?;
    let width = report
        .packages
        .iter()
        .map(|p| p.dir.len())
        .max()
        .unwrap_or(0);
    for package in &report.packages {
        writeln!(
            out,
            "  {:width$}  {} {}, {} changes",
            package.dir,
            package.name,
            package.version.as_deref().unwrap_or("-"),
            package.changes
        )?;
    }
    printer.note(&format!(
        "next: jobsctl plan -w {0}, jobsctl deploy -w {0}",
        shown(&report.path)
    ));
    Ok(())
}

pub fn run_bundle(
    project: &super::project::Project,
    args: &BundleArgs,
    format: Format,
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
    warn(&report.warnings);
    if format == Format::Json {
        return json(&report);
    }
    let mut out = anstream::stdout().lock();
    let names: Vec<String> = report
        .packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version.as_deref().unwrap_or("-")))
        .collect();
    writeln!(out, "{HEADING}bundled{HEADING:#} {}", names.join(", "))?;
    files(&mut out, &report.files)?;
    for step in &report.install {
        printer.note(&format!("next: {step}"));
    }
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

/// A path relative to the current folder when it lies below it.
fn shown(path: &str) -> String {
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_owned();
    };
    match Path::new(path).strip_prefix(&cwd) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.display().to_string(),
        Err(_) => path.to_owned(),
    }
}

fn files(out: &mut impl Write, files: &Files) -> io::Result<()> {
    for file in &files.0 {
        let action = match file.action {
            FileAction::Created => "created",
            FileAction::Updated => "updated",
            FileAction::Kept => "kept   ",
        };
        writeln!(out, "{action} {}", shown(&file.path))?;
    }
    Ok(())
}

fn warn(warnings: &[String]) {
    let mut err = anstream::stderr().lock();
    for warning in warnings {
        let _ = writeln!(err, "{WARN}warning{WARN:#}: {warning}");
    }
}

fn json<T: Serialize>(value: &T) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::other)?;
    writeln!(out)?;
    Ok(())
}
