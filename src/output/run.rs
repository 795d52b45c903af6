//! Deploy, revert, verify, status and log output: one line per change as it
//! happens (human), or the whole report as one JSON document at the end.

use super::{DIM, ERROR, HEADING, Printer, WARN};
use crate::cli::Format;
use crate::db::NoticeHandler;
use crate::engine::deploy::DeployReport;
use crate::engine::revert::RevertReport;
use crate::engine::status::StatusReport;
use crate::engine::verify::VerifyReport;
use crate::engine::{self, ChangeResult, Outcome, Progress};
use crate::error::Error;
use crate::registry::Event;
use crate::text::{agree, plural, plural_s};
use anstyle::{AnsiColor, Style};
use std::io::{self, BufRead, Write};
use std::sync::Arc;

const OK: Style = AnsiColor::Green.on_default();

impl Printer {
    /// A progress line on stderr before a run starts (a terminal only).
    pub fn begin(&self, action: &str, database: &str) {
        if self.progress {
            let _ = writeln!(anstream::stderr(), "{DIM}{action} {database}{DIM:#}");
        }
    }

    /// A note on stderr (not with --quiet).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(anstream::stderr(), "{DIM}{message}{DIM:#}");
        }
    }

    /// A warning on stderr, even with --quiet.
    pub fn warning(&self, message: &str) {
        let _ = writeln!(anstream::stderr(), "{WARN}warning{WARN:#}: {message}");
    }

    /// Server notices and warnings raised by scripts, on stderr; with
    /// --quiet only warnings.
    pub fn notice_handler(&self) -> NoticeHandler {
        let quiet = self.quiet;
        Arc::new(move |notice: &postgres::error::DbError| {
            let warning = notice.severity() == "WARNING";
            if quiet && !warning {
                return;
            }
            let style = if warning { WARN } else { DIM };
            let _ = writeln!(
                anstream::stderr(),
                "{style}{}: {} [SQLSTATE {}]{style:#}",
                notice.severity(),
                notice.message(),
                notice.code().code()
            );
        })
    }

    pub fn progress(&self, progress: Progress) {
        match progress {
            Progress::Waiting { holder, waited } => {
                tracing::info!(
                    holder = holder.as_deref().unwrap_or("unknown"),
                    waited_s = waited.as_secs_f64(),
                    "waiting for the deploy lock"
                );
                // Shown even with --quiet: a deploy that stalls must say why.
                let holder = holder.map(|h| format!(" ({h})")).unwrap_or_default();
                let _ = writeln!(
                    anstream::stderr(),
                    "{WARN}waiting for the deploy lock{holder}, {:.0} s so far{WARN:#}",
                    waited.as_secs_f64()
                );
            }
            // Part of an error report ("rolled back with it: ..."): shown even with --quiet.
            Progress::Note(message) => {
                let _ = writeln!(anstream::stderr(), "{DIM}{message}{DIM:#}");
            }
            Progress::KeptDrift { package, drift } => {
                let human = format!(
                    "{package}: {} differ{} from the local deploy script{} (installed by another tool or release); kept as deployed, since the local verify script{} pass against {}: {}",
                    plural(drift.len(), "deployed change"),
                    agree(drift.len(), "s", ""),
                    plural_s(drift.len()),
                    plural_s(drift.len()),
                    agree(drift.len(), "it", "them"),
                    drift
                        .iter()
                        .map(|d| format!(
                            "{} (deployed {}, local {})",
                            d.change,
                            short(&d.deployed_hash),
                            short(&d.local_hash)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let value = serde_json::json!({
                    "kind": "kept_drift",
                    "package": package,
                    "message": human,
                    "drift": drift,
                });
                self.record_warning(value, &human);
            }
            Progress::LockRetry(retry) => {
                let human = format!(
                    "{}:{}: {}{} [SQLSTATE {}] (attempt {} of {}); running it again in {:.1} s; blocked by {}",
                    retry.package,
                    retry.change,
                    retry.error_message,
                    retry
                        .lock_timeout_ms
                        .map(|ms| format!(" (lock_timeout {ms} ms)"))
                        .unwrap_or_default(),
                    engine::lock_wait::LOCK_NOT_AVAILABLE,
                    retry.attempt,
                    retry.retries + 1,
                    retry.retry_in_ms as f64 / 1000.0,
                    crate::db::blockers::describe_all(&retry.blockers),
                );
                let mut value = serde_json::to_value(&retry).unwrap_or_default();
                if let serde_json::Value::Object(map) = &mut value {
                    map.insert("kind".into(), "lock_retry".into());
                    map.insert(
                        "sqlstate".into(),
                        engine::lock_wait::LOCK_NOT_AVAILABLE.into(),
                    );
                    map.insert("message".into(), human.clone().into());
                }
                // In the document's warnings (JSON) and on stderr (both
                // formats, even with --quiet): a deploy that waits must say why.
                self.record_warning(value, &human);
                if self.format == Format::Json {
                    let _ = writeln!(anstream::stderr(), "{WARN}warning{WARN:#}: {human}");
                }
            }
            Progress::Change(result) => {
                tracing::debug!(
                    package = %result.package,
                    change = %result.change,
                    outcome = ?result.outcome,
                    ms = result.duration_ms,
                    "change done"
                );
                self.state.borrow_mut().changes.push(result.clone());
                if self.format == Format::Human && !self.quiet {
                    let _ = change_line(result);
                }
            }
        }
    }

    pub fn deploy_report(&self, report: Result<DeployReport, engine::Error>) -> Result<(), Error> {
        let report = report?;
        if self.format == Format::Json {
            return Ok(self.json(&report)?);
        }
        let verb = if report.dry_run {
            "would deploy"
        } else if report.log_only {
            "logged"
        } else {
            "deployed"
        };
        summary(&report.changes, verb, &report.database)?;
        Ok(())
    }

    pub fn revert_report(&self, report: Result<RevertReport, engine::Error>) -> Result<(), Error> {
        let report = report?;
        if self.format == Format::Json {
            return Ok(self.json(&report)?);
        }
        let verb = if report.dry_run {
            "would revert"
        } else {
            "reverted"
        };
        summary(&report.changes, verb, &report.database)?;
        if !report.left_unknown.is_empty() {
            self.note(&format!(
                "left deployed (not in the plan): {}",
                report.left_unknown.join(", ")
            ));
        }
        Ok(())
    }

    pub fn verify_report(&self, report: Result<VerifyReport, engine::Error>) -> Result<(), Error> {
        let report = report?;
        if self.format == Format::Json {
            return Ok(self.json(&report)?);
        }
        summary(&report.changes, "verified", &report.database)?;
        if report.pending > 0 {
            self.note(&format!(
                "{} not deployed, not verified",
                plural(report.pending, "change")
            ));
        }
        Ok(())
    }

    pub fn status_report(&self, report: &StatusReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let mut out = anstream::stdout().lock();
        writeln!(
            out,
            "{HEADING}{}{HEADING:#}{}",
            report.database,
            if report.registry {
                ""
            } else {
                " (no registry: nothing deployed)"
            }
        )?;
        for p in &report.packages {
            let total = p.deployed + p.pending.len();
            write!(
                out,
                "  {HEADING}{}{HEADING:#}  {}/{total} deployed",
                p.name, p.deployed
            )?;
            if let Some(at) = &p.last_deployed {
                write!(out, "  {DIM}last {at}{DIM:#}")?;
            }
            writeln!(out)?;
            for change in &p.pending {
                writeln!(out, "    {WARN}pending{WARN:#}  {change}")?;
            }
            for d in &p.drifted {
                writeln!(
                    out,
                    "    {ERROR}drifted{ERROR:#}  {}  {DIM}deployed {} ≠ local {}{DIM:#}",
                    d.change,
                    short(&d.deployed_hash),
                    short(&d.local_hash)
                )?;
            }
            for change in &p.unknown {
                writeln!(
                    out,
                    "    {WARN}unknown{WARN:#}  {change}  {DIM}deployed, not in the plan{DIM:#}"
                )?;
            }
        }
        Ok(())
    }

    pub fn events(&self, events: &[Event]) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(&serde_json::json!({ "events": events }));
        }
        let mut out = anstream::stdout().lock();
        for e in events {
            let kind = serde_json::to_value(e.event_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            write!(
                out,
                "{DIM}{}{DIM:#}  {kind:<7} {}:{}",
                e.occurred_at, e.package, e.change_name
            )?;
            if let Some(message) = &e.error_message {
                write!(out, "  {ERROR}failed{ERROR:#}: {message}")?;
                if let Some(code) = e.error_code.as_deref().filter(|c| !c.is_empty()) {
                    write!(out, " [SQLSTATE {code}]")?;
                }
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// Ask on the terminal; only `y`/`yes` confirms.
    pub fn confirm(&self, question: &str, changes: &[String]) -> io::Result<bool> {
        let mut err = anstream::stderr().lock();
        for change in changes {
            writeln!(err, "  {change}")?;
        }
        write!(err, "{question} [y/N] ")?;
        err.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn change_line(result: &ChangeResult) -> io::Result<()> {
    let (style, word) = match result.outcome {
        Outcome::Deployed => (OK, "deployed"),
        Outcome::Replaced => (WARN, "replaced"),
        Outcome::Logged => (OK, "logged"),
        Outcome::Reverted => (OK, "reverted"),
        Outcome::Verified => (OK, "verified"),
        Outcome::Failed => (ERROR, "FAILED"),
        Outcome::RolledBack => (WARN, "rolled back"),
        Outcome::Planned => (DIM, "pending"),
    };
    let mut out = anstream::stdout().lock();
    write!(
        out,
        "{style}{word:>11}{style:#}  {}:{}",
        result.package, result.change
    )?;
    if result.outcome != Outcome::Planned {
        write!(out, "  {DIM}{} ms{DIM:#}", result.duration_ms)?;
    }
    if result.transaction == "none" {
        write!(out, "  {WARN}[no transaction]{WARN:#}")?;
    }
    writeln!(out)
}

fn summary(changes: &[ChangeResult], verb: &str, database: &str) -> io::Result<()> {
    let mut out = anstream::stdout().lock();
    if changes.is_empty() {
        return writeln!(out, "nothing to do: {database} is up to date");
    }
    let total: u64 = changes.iter().map(|c| c.duration_ms).sum();
    writeln!(
        out,
        "{HEADING}{verb} {}{HEADING:#} in {total} ms",
        plural(changes.len(), "change")
    )
}
