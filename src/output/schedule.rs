//! `jobsctl schedule run` output: one line per fired job as it fires
//! (human), or one document at the end: `{"database", "runs", "fired"}`.

use super::Printer;
use crate::cli::Format;
use crate::text::plural;
use serde::Serialize;
use std::io::{self, Write};

/// One job spawned by a call of `app_jobs.run_due_scheduled_jobs()`.
#[derive(Debug, Serialize)]
pub struct Fired {
    pub scheduled_job_id: i64,
    pub task_identifier: Option<String>,
    /// The slot, as RFC 3339 in UTC.
    pub slot: String,
    pub job_id: i64,
}

/// What a `schedule run` did, call after call.
#[derive(Debug, Serialize)]
pub struct ScheduleReport {
    pub database: String,
    pub runs: u64,
    pub fired: Vec<Fired>,
}

impl Printer {
    /// A job just fired: its line (human format only).
    pub fn fired(&self, fired: &Fired) -> io::Result<()> {
        if self.format != Format::Human {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "fired {} (scheduled job {}) for slot {}: job {}",
            fired.task_identifier.as_deref().unwrap_or("?"),
            fired.scheduled_job_id,
            fired.slot,
            fired.job_id
        )
    }

    /// The end of the run: the document, or a note of the counts.
    pub fn schedule_report(&self, report: &ScheduleReport) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(report),
            Format::Human => {
                self.note(&format!(
                    "{}, {} fired",
                    plural(report.runs as usize, "call"),
                    plural(report.fired.len(), "job"),
                ));
                Ok(())
            }
        }
    }
}
