//! `jobsctl lint`'s report, and lint findings as warnings of `plan` and
//! `deploy`.

use super::{DIM, ERROR, HEADING, Printer, WARN};
use crate::cli::Format;
use crate::lint::{Finding, LintReport, Severity};
use crate::text::plural;
use serde::Serialize;
use std::io::{self, Write};

/// `path:line:column: rule: message`.
pub fn one_line(finding: &Finding) -> String {
    let at = &finding.at;
    format!(
        "{}:{}:{}: {}: {}",
        at.path, at.line, at.column, finding.rule, finding.message
    )
}

/// The `lint --format json` document.
#[derive(Serialize)]
struct Document<'a> {
    workspace: &'a str,
    /// The database whose registry was read, if any.
    database: Option<&'a str>,
    strict: bool,
    /// The rules run on packages without settings of their own.
    rules: &'a [String],
    /// Findings that make the run fail (all of them with --strict).
    errors: usize,
    #[serde(flatten)]
    report: &'a LintReport,
}

impl Printer {
    pub fn lint_report(
        &self,
        workspace: &str,
        database: Option<&str>,
        rules: &[String],
        report: &LintReport,
        strict: bool,
    ) -> io::Result<()> {
        let errors = report.errors(strict);
        if self.format() == Format::Json {
            return self.json(&Document {
                workspace,
                database,
                strict,
                rules,
                errors,
                report,
            });
        }
        let mut out = anstream::stdout().lock();
        for finding in &report.findings {
            let style = if strict || finding.severity == Severity::Error {
                ERROR
            } else {
                WARN
            };
            writeln!(out, "{style}{}{style:#}", one_line(finding))?;
            if let Some(help) = &finding.help {
                writeln!(out, "  {DIM}help:{DIM:#} {help}")?;
            }
            if let Some(fix) = &finding.fix {
                write!(out, "  {DIM}fix:{DIM:#} {}", fix.title)?;
                for edit in &fix.edits {
                    if !edit.text.is_empty() {
                        write!(
                            out,
                            " {DIM}(at {}:{}: `{}`){DIM:#}",
                            edit.line,
                            edit.column,
                            edit.text.trim()
                        )?;
                    }
                }
                writeln!(out)?;
            }
        }
        if !self.quiet() {
            for silenced in &report.silenced {
                let at = &silenced.at;
                writeln!(
                    out,
                    "{DIM}{}:{}:{}: {}: silenced by {}: {}{DIM:#}",
                    at.path, at.line, at.column, silenced.rule, silenced.by, silenced.reason
                )?;
            }
        }
        let warnings = report.findings.len() - errors;
        write!(
            out,
            "{HEADING}Linted {}{HEADING:#}",
            plural(report.linted, "pending change")
        )?;
        if report.deployed > 0 {
            write!(out, " ({} deployed, skipped)", report.deployed)?;
        }
        writeln!(
            out,
            ": {}, {}, {} silenced, {} exempt (table new in this run)",
            plural(errors, "error"),
            plural(warnings, "warning"),
            report.silenced.len(),
            report.exempt.len()
        )
    }

    /// Lint findings of `plan` and `deploy` that are not errors: warnings
    /// on stderr, or in the JSON document's `warnings` (`kind: lint`).
    pub fn lint_warnings(&self, findings: &[Finding]) {
        for finding in findings {
            let mut value = serde_json::to_value(finding).unwrap_or_default();
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("kind".into(), "lint".into());
            }
            let mut human = one_line(finding);
            if let Some(help) = &finding.help {
                human.push_str(&format!(" ({help})"));
            }
            self.record_warning(value, &human);
        }
    }
}
