//! Reporting: data on stdout (human text or exactly one JSON document),
//! errors on stderr. Colour goes through `anstream`, which drops it when the
//! stream is not a terminal or `NO_COLOR` is set, unless `--color` says
//! otherwise.
//!
//! What goes where:
//!
//! - stdout: the data: the plan, one line per change as it completes (with
//!   its time), the summary, status, events; or the one JSON document.
//! - stderr, always: errors, server warnings, waiting for the deploy lock
//!   (a deploy that stalls must say why, in CI logs too).
//! - stderr unless `--quiet`: notes (`created database x`, `using the dev
//!   cluster at ...`, next steps) and server notices.
//! - stderr only on a terminal (and not `--quiet`): progress, the
//!   `deploy <database>` line before a run starts.
//!
//! `--quiet` also drops the per-change lines: errors and the final result
//! stay.
//!
//! Every JSON document goes through [`Printer::json`]; each command family
//! has its renderers in its own file: `plan`, `run` (deploy, revert, verify,
//! status, log), `scaffold` (init, add, tag, export, bundle), `dev`,
//! `schedule`, `bench`, `jobs` and `locks` (the lock report).

mod adopt;
mod bench;
mod dev;
pub mod jobs;
mod lint;
pub mod locks;
mod plan;
mod run;
mod scaffold;
pub mod schedule;

use crate::cli::{ColorWhen, Format};
use crate::engine::ChangeResult;
use crate::engine::plan::DeployPlan;
use crate::error::Error;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::cell::RefCell;
use std::io::{self, Write};

pub(crate) const HEADING: Style = Style::new().bold();
pub(crate) const PACKAGE: Style = AnsiColor::Cyan.on_default().bold();
pub(crate) const EXTENSION: Style = AnsiColor::Magenta.on_default();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const WARN: Style = AnsiColor::Yellow.on_default();
pub(crate) const ERROR: Style = AnsiColor::Red.on_default().bold();

pub struct Printer {
    format: Format,
    /// `--quiet`: only errors and the final result.
    quiet: bool,
    /// Progress lines: stderr is a terminal, human format, not quiet.
    progress: bool,
    /// What the run reported so far. The printer is shared (`&self`) by
    /// the engine's progress callback, the notice handler and the command,
    /// and the JSON document that ends the run (a report, or the error) is
    /// only written at the end: hence one `RefCell`, written by
    /// [`Printer::progress`] and [`Printer::record_warning`], read by
    /// [`Printer::json`] and [`Printer::error`].
    state: RefCell<RunState>,
}

/// The run's reported facts that the final JSON document repeats.
#[derive(Default)]
struct RunState {
    /// Every change result reported so far, for the error document.
    changes: Vec<ChangeResult>,
    /// Every warning reported so far: the `warnings` array of the
    /// document, whichever it is.
    warnings: Vec<serde_json::Value>,
}

impl Printer {
    pub fn new(format: Format, color: ColorWhen) -> Printer {
        Printer::with_quiet(format, color, false)
    }

    pub fn with_quiet(format: Format, color: ColorWhen, quiet: bool) -> Printer {
        use std::io::IsTerminal;
        let choice = match color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Printer {
            format,
            quiet,
            progress: format == Format::Human && !quiet && io::stderr().is_terminal(),
            state: RefCell::default(),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    pub fn plan(&self, plan: &DeployPlan) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(plan),
            Format::Human => plan::human(plan),
        }
    }

    /// The error once, on stderr; in JSON mode also as the one document on stdout.
    pub fn error(&self, error: &Error) {
        if let Error::Exit(_) = error {
            // Reported already; only the exit code is left.
            return;
        }
        let mut err = anstream::stderr().lock();
        // Nothing sensible is left to do if stderr itself is gone.
        let _ = human_error(&mut err, error);
        if self.format == Format::Json {
            let mut document = ErrorDocument::from(error);
            document.changes = self.state.borrow().changes.clone();
            let _ = self.json(&document);
        }
    }
}

impl Printer {
    /// The one JSON document on stdout: the only way one is written. The
    /// warnings reported during the run are its `warnings` array (when
    /// there are any, and the document has no `warnings` of its own: the
    /// generator's reports carry theirs).
    pub fn json<T: Serialize>(&self, value: &T) -> io::Result<()> {
        let state = self.state.borrow();
        if state.warnings.is_empty() {
            return json(value);
        }
        let mut document = serde_json::to_value(value).map_err(io::Error::other)?;
        if let serde_json::Value::Object(map) = &mut document
            && !map.contains_key("warnings")
        {
            map.insert(
                "warnings".into(),
                serde_json::Value::from(state.warnings.clone()),
            );
        }
        json(&document)
    }

    /// A warning about the workspace (`path:line:column: message`): on
    /// stderr in human mode, in the document's `warnings` in JSON mode.
    pub fn workspace_warning(&self, problem: &crate::package::Problem) {
        let mut value = serde_json::to_value(problem).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("kind".into(), "workspace".into());
        }
        self.record_warning(value, &problem.to_string());
    }

    pub(crate) fn record_warning(&self, value: serde_json::Value, human: &str) {
        self.state.borrow_mut().warnings.push(value);
        if self.format == Format::Human {
            let _ = writeln!(anstream::stderr(), "{WARN}warning{WARN:#}: {human}");
        }
    }
}

fn json<T: Serialize>(value: &T) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

fn human_error(err: &mut impl Write, error: &Error) -> io::Result<()> {
    use crate::engine::Error as Engine;
    match error {
        Error::WithHint { error, hint } => {
            human_error(err, error)?;
            return writeln!(err, "{DIM}hint: {hint}{DIM:#}");
        }
        Error::InvalidWorkspace { problems, .. } => {
            for problem in &problems.0 {
                writeln!(err, "{ERROR}error{ERROR:#}: {problem}")?;
            }
        }
        Error::Lint { findings } => {
            for finding in findings {
                writeln!(err, "{ERROR}error{ERROR:#}: {}", lint::one_line(finding))?;
            }
        }
        Error::Engine(Engine::ChangeFailed(failure)) => {
            return writeln!(err, "{ERROR}error{ERROR:#}: change failed: {failure}");
        }
        Error::Engine(Engine::VerifyFailed { failures }) => {
            for failure in failures {
                writeln!(err, "{ERROR}error{ERROR:#}: verify failed: {failure}")?;
            }
        }
        Error::Engine(Engine::DriftUnverified { failures, .. }) => {
            for failure in failures {
                writeln!(
                    err,
                    "{ERROR}error{ERROR:#}: verify of drifted change failed: {failure}"
                )?;
            }
        }
        Error::Engine(Engine::Drift { drift }) => {
            for d in drift {
                writeln!(
                    err,
                    "{ERROR}error{ERROR:#}: drift: {}:{} was deployed with script hash {}, but {} now hashes to {}",
                    d.package, d.change, d.deployed_hash, d.path, d.local_hash
                )?;
            }
        }
        _ => {}
    }
    writeln!(err, "{ERROR}error{ERROR:#}: {error}")
}

#[derive(Serialize)]
struct ErrorDocument<'a> {
    error: ErrorBody<'a>,
    /// Changes that ran before the error (deploy, revert, verify).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<ChangeResult>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'static str,
    message: String,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a crate::package::Problems>,
    /// The failed change, the failed verify scripts, or the drifted changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<serde_json::Value>,
    /// What to do about it, when jobsctl has a suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl<'a> From<&'a Error> for ErrorDocument<'a> {
    fn from(error: &'a Error) -> Self {
        use crate::engine::Error as Engine;
        if let Error::WithHint { error, hint } = error {
            let mut document = ErrorDocument::from(error.as_ref());
            document.error.hint = Some(hint);
            return document;
        }
        let problems = match error {
            Error::InvalidWorkspace { problems, .. } => Some(problems),
            _ => None,
        };
        let details = match error {
            Error::Lint { findings } => serde_json::to_value(findings).ok(),
            Error::Engine(Engine::ChangeFailed(failure)) => serde_json::to_value(failure).ok(),
            Error::Engine(Engine::VerifyFailed { failures }) => serde_json::to_value(failures).ok(),
            Error::Engine(Engine::Drift { drift }) => serde_json::to_value(drift).ok(),
            Error::Engine(Engine::DriftUnverified { drift, failures }) => {
                Some(serde_json::json!({ "drift": drift, "failures": failures }))
            }
            Error::Engine(Engine::MissingExtensions { missing }) => Some(
                missing
                    .iter()
                    .map(|(package, extension)| {
                        serde_json::json!({ "package": package, "extension": extension })
                    })
                    .collect(),
            ),
            _ => None,
        };
        ErrorDocument {
            error: ErrorBody {
                kind: error.kind(),
                message: error.to_string(),
                exit_code: error.exit_code(),
                problems,
                details,
                hint: None,
            },
            changes: Vec::new(),
        }
    }
}
