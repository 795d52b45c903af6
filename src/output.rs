//! Reporting: data on stdout (human text or exactly one JSON document),
//! errors on stderr. Colour goes through `anstream`, which drops it when the
//! stream is not a terminal or `NO_COLOR` is set, unless `--color` says
//! otherwise.

use crate::cli::{ColorWhen, Format};
use crate::engine::plan::{DeployPlan, Step, TransactionMode};
use crate::error::Error;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::io::{self, Write};

const HEADING: Style = Style::new().bold();
const PACKAGE: Style = AnsiColor::Cyan.on_default().bold();
const EXTENSION: Style = AnsiColor::Magenta.on_default();
const DIM: Style = Style::new().dimmed();
const WARN: Style = AnsiColor::Yellow.on_default();
const ERROR: Style = AnsiColor::Red.on_default().bold();

pub struct Printer {
    format: Format,
}

impl Printer {
    pub fn new(format: Format, color: ColorWhen) -> Printer {
        let choice = match color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Printer { format }
    }

    pub fn plan(&self, plan: &DeployPlan) -> io::Result<()> {
        match self.format {
            Format::Json => json(plan),
            Format::Human => human_plan(plan),
        }
    }

    /// The error once, on stderr; in JSON mode also as the one document on stdout.
    pub fn error(&self, error: &Error) {
        let mut err = anstream::stderr().lock();
        // Nothing sensible is left to do if stderr itself is gone.
        let _ = human_error(&mut err, error);
        if self.format == Format::Json {
            let _ = json(&ErrorDocument::from(error));
        }
    }
}

fn json<T: Serialize>(value: &T) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

fn human_plan(plan: &DeployPlan) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    let packages = plan.packages().count();
    let extensions = plan.extensions().count();
    writeln!(
        out,
        "{HEADING}Deploy plan for {}{HEADING:#}: {packages} package{}, {extensions} extension{}, {} change{}",
        plan.workspace,
        plural(packages),
        plural(extensions),
        plan.change_count(),
        plural(plan.change_count()),
    )?;
    let mut number = 0;
    for step in &plan.steps {
        match step {
            Step::Extension { name, required_by } => {
                writeln!(
                    out,
                    "{EXTENSION}extension{EXTENSION:#} {name}  {DIM}CREATE EXTENSION IF NOT EXISTS, needed by {required_by}{DIM:#}"
                )?;
            }
            Step::Package {
                name,
                version,
                path,
                depends_on,
                changes, ..
            } => {
                write!(
                    out,
                    "{PACKAGE}package{PACKAGE:#}   {PACKAGE}{name}{PACKAGE:#}"
                )?;
                if let Some(version) = version {
                    write!(out, " {version}")?;
                }
                write!(out, "  {DIM}{path}")?;
                if !depends_on.is_empty() {
                    write!(out, ", after {}", depends_on.join(", "))?;
                }
                writeln!(out, "{DIM:#}")?;
                for change in changes {
                    number += 1;
                    write!(out, "  {number:>3}  {}", change.name)?;
                    for tag in &change.tags {
                        write!(out, " {HEADING}{tag}{HEADING:#}")?;
                    }
                    let own = format!("{name}:");
                    let requires: Vec<&str> = change
                        .requires
                        .iter()
                        .map(|r| r.strip_prefix(&own).unwrap_or(r))
                        .collect();
                    if !requires.is_empty() {
                        write!(out, "  {DIM}requires {}{DIM:#}", requires.join(", "))?;
                    }
                    if let TransactionMode::None { reason } = &change.transaction {
                        write!(out, "  {WARN}[no transaction: {reason}]{WARN:#}")?;
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

fn human_error(err: &mut impl Write, error: &Error) -> io::Result<()> {
    if let Error::InvalidWorkspace { problems, .. } = error {
        for problem in &problems.0 {
            writeln!(err, "{ERROR}error{ERROR:#}: {problem}")?;
        }
    }
    writeln!(err, "{ERROR}error{ERROR:#}: {error}")
}

#[derive(Serialize)]
struct ErrorDocument<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'static str,
    message: String,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a crate::package::Problems>,
}

impl<'a> From<&'a Error> for ErrorDocument<'a> {
    fn from(error: &'a Error) -> Self {
        let problems = match error {
            Error::InvalidWorkspace { problems, .. } => Some(problems),
            _ => None,
        };
        ErrorDocument {
            error: ErrorBody {
                kind: error.kind(),
                message: error.to_string(),
                exit_code: error.exit_code(),
                problems,
            },
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
