//! `jobsctl adopt` output: the recognised installation, each check with its
//! result, each step (with `--dry-run`: what would run), the outcome; or
//! the report as one JSON document.

use super::{DIM, ERROR, HEADING, Printer, WARN};
use crate::adopt::{AdoptOutcome, AdoptReport};
use crate::cli::Format;
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

const OK: Style = AnsiColor::Green.on_default();

impl Printer {
    pub fn adopt_report(&self, report: &AdoptReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let mut out = anstream::stdout().lock();
        match &report.installation {
            Some(installation) => {
                writeln!(out, "{HEADING}installation{HEADING:#}: {installation}")?
            }
            None if report.outcome == AdoptOutcome::NothingToAdopt => {
                writeln!(out, "{HEADING}installation{HEADING:#}: none to adopt")?
            }
            None => writeln!(out, "{HEADING}installation{HEADING:#}: not recognised")?,
        }
        for reason in &report.reasons {
            writeln!(out, "  {reason}")?;
        }
        if !report.dependencies.is_empty() {
            writeln!(out, "{HEADING}dependencies{HEADING:#}")?;
            for line in &report.dependencies {
                writeln!(out, "  {line}")?;
            }
        }
        if !report.checks.is_empty() {
            writeln!(out, "{HEADING}checks{HEADING:#}")?;
            for check in &report.checks {
                let (style, mark) = match (check.passed, check.blocking) {
                    (true, _) => (OK, "ok     "),
                    (false, true) => (ERROR, "REFUSED"),
                    (false, false) => (WARN, "note   "),
                };
                writeln!(
                    out,
                    "  {style}{mark}{style:#} {}: {}",
                    check.name, check.summary
                )?;
                for detail in &check.details {
                    writeln!(out, "          - {detail}")?;
                }
            }
        }
        if !report.steps.is_empty() && (report.dry_run || report.outcome == AdoptOutcome::Refused) {
            writeln!(
                out,
                "{HEADING}steps{HEADING:#} {DIM}(one transaction; {}){DIM:#}",
                if report.outcome == AdoptOutcome::Refused {
                    "not run"
                } else {
                    "dry run: nothing is changed"
                }
            )?;
            for (i, step) in report.steps.iter().enumerate() {
                writeln!(
                    out,
                    "  {:>3}. {:<10} {}  {DIM}{}{DIM:#}",
                    i + 1,
                    step.phase,
                    step.name,
                    step.how
                )?;
            }
        }
        let line = match report.outcome {
            AdoptOutcome::Adopted => format!(
                "{OK}adopted{OK:#} {} in {}: {} changes deployed or recorded in one transaction",
                report.installation.as_deref().unwrap_or(""),
                report.database,
                report.changes.len()
            ),
            AdoptOutcome::WouldAdopt => format!(
                "{OK}dry run{OK:#}: {} in {} can be adopted; nothing was changed",
                report.installation.as_deref().unwrap_or(""),
                report.database
            ),
            AdoptOutcome::NothingToAdopt => format!("nothing to adopt in {}", report.database),
            AdoptOutcome::Refused => format!(
                "{ERROR}refused{ERROR:#}: {} was not changed",
                report.database
            ),
        };
        writeln!(out, "{line}")
    }
}
