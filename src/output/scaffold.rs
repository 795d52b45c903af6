//! `jobsctl init`, `add`, `tag`, `export` and `bundle` output: the files
//! written (text, or one JSON document), the generator's warnings and the
//! next steps on stderr.

use super::{DIM, HEADING, Printer};
use crate::cli::Format;
use crate::scaffold::add::PlanEdit;
use crate::scaffold::bundle::BundleReport;
use crate::scaffold::export::ExportReport;
use crate::scaffold::init::{Created, InitReport};
use crate::scaffold::{FileAction, Files};
use std::io::{self, Write};
use std::path::Path;

impl Printer {
    pub fn init_report(&self, report: &InitReport) -> io::Result<()> {
        self.generator_warnings(&report.warnings);
        if self.format == Format::Json {
            return self.json(report);
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
            Created::Package => self.note(&format!(
                "next: jobsctl add <change> -C {}",
                shown(&report.path)
            )),
            Created::Workspace => self.note(&format!(
                "next: cd {} && jobsctl init <package>",
                shown(&report.path)
            )),
        }
        Ok(())
    }

    /// `add` or `tag`.
    pub fn plan_edit(&self, report: &PlanEdit) -> io::Result<()> {
        self.generator_warnings(&report.warnings);
        if self.format == Format::Json {
            return self.json(report);
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
            self.note("next: write the SQL into the deploy, revert and verify scripts");
        }
        Ok(())
    }

    pub fn export_report(&self, report: &ExportReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
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
        self.note(&format!(
            "next: jobsctl plan -w {0}, jobsctl deploy -w {0}",
            shown(&report.path)
        ));
        Ok(())
    }

    pub fn bundle_report(&self, report: &BundleReport) -> io::Result<()> {
        self.generator_warnings(&report.warnings);
        if self.format == Format::Json {
            return self.json(report);
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
            self.note(&format!("next: {step}"));
        }
        Ok(())
    }

    /// The generator's warnings, on stderr in both formats (the JSON
    /// document carries them too, as its own `warnings`).
    fn generator_warnings(&self, warnings: &[String]) {
        for warning in warnings {
            self.warning(warning);
        }
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
