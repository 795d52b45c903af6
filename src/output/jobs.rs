//! `jobsctl jobs` output: aligned tables and key/value blocks on stdout
//! (human), or one JSON document per command through [`Printer::json`]:
//!
//! - `stats`: `{"database", "rows": [job_stats rows], "totals", "paused_queues"}`;
//! - `list`: `{"database", "jobs": [...]}`; `show`: `{"database", "job"}`;
//! - `retry`, `cancel`, `purge`: `{"database", "action", "count", "jobs"}`
//!   (the rows touched; `state` is `deleted` for cancel and purge);
//! - `pause`, `resume`: `{"database", "action", "queue"}` (`queue` null for
//!   a queue with neither jobs nor a pause).

use super::Printer;
use crate::cli::Format;
use crate::queue::{Counts, Job, Queue, Stats, StatsRow};
use crate::text::plural;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub database: String,
    pub rows: Vec<StatsRow>,
    /// The sums of the state columns over every row.
    pub totals: Counts,
    pub paused_queues: Vec<Queue>,
}

impl StatsReport {
    pub fn new(database: String, stats: Stats) -> StatsReport {
        let mut totals = Counts::default();
        for r in &stats.rows {
            totals.add(&r.counts);
        }
        StatsReport {
            database,
            rows: stats.rows,
            totals,
            paused_queues: stats.paused_queues,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ListReport {
    pub database: String,
    pub jobs: Vec<Job>,
}

#[derive(Debug, Serialize)]
pub struct ShowReport {
    pub database: String,
    pub job: Job,
}

#[derive(Debug, Serialize)]
pub struct OperationReport {
    pub database: String,
    /// `retry`, `cancel` or `purge`.
    pub action: &'static str,
    pub count: usize,
    pub jobs: Vec<Job>,
}

#[derive(Debug, Serialize)]
pub struct QueueReport {
    pub database: String,
    /// `pause` or `resume`.
    pub action: &'static str,
    pub queue_name: String,
    pub queue: Option<Queue>,
}

/// Seconds as a short age: `42s`, `3m05s`, `2h07m`, `3d04h`.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

/// Rows of cells as columns separated by two spaces, each as wide as its
/// widest cell; numbers (cells of `right` columns) aligned right.
fn table(out: &mut impl Write, rows: &[Vec<String>], right: &[bool]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if c + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn opt_age(seconds: Option<f64>) -> String {
    seconds.map(age).unwrap_or_else(|| "-".into())
}

/// A job's one-line error: its first line, at most 60 characters.
fn short_error(error: Option<&str>) -> String {
    let Some(error) = error else {
        return String::new();
    };
    let line = error.lines().next().unwrap_or("");
    if line.chars().count() > 60 || error.contains('\n') {
        let cut: String = line.chars().take(57).collect();
        format!("{cut}...")
    } else {
        line.to_owned()
    }
}

fn job_rows(jobs: &[Job]) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "ID",
            "STATE",
            "TASK",
            "QUEUE",
            "ATTEMPTS",
            "RUN AT",
            "LAST ERROR",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for j in jobs {
        rows.push(vec![
            j.id.to_string(),
            j.state.clone(),
            j.task_identifier.clone(),
            j.queue_name.clone().unwrap_or_else(|| "-".into()),
            format!("{}/{}", j.attempts, j.max_attempts),
            j.run_at.clone(),
            short_error(j.last_error.as_deref()),
        ]);
    }
    rows
}

const JOB_RIGHT: [bool; 7] = [true, false, false, false, true, false, false];

impl Printer {
    /// The stats table (also each redraw of `--watch`).
    pub fn jobs_stats(&self, report: &StatsReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let mut out = io::stdout().lock();
        let mut rows = vec![
            [
                "TASK",
                "QUEUE",
                "READY",
                "SCHEDULED",
                "RUNNING",
                "RETRYING",
                "FAILED",
                "PAUSED",
                "OLDEST READY",
                "LONGEST RUNNING",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for r in &report.rows {
            let mut row = vec![
                r.task_identifier.clone(),
                r.queue_name.clone().unwrap_or_else(|| "-".into()),
            ];
            row.extend(r.counts.values().map(|n| n.to_string()));
            row.push(opt_age(r.oldest_ready_age_seconds));
            row.push(opt_age(r.longest_running_seconds));
            rows.push(row);
        }
        let t = &report.totals;
        if report.rows.len() != 1 {
            let longest = |age: fn(&StatsRow) -> Option<f64>| {
                opt_age(report.rows.iter().filter_map(age).reduce(f64::max))
            };
            let mut row = vec!["(total)".to_owned(), String::new()];
            row.extend(t.values().map(|n| n.to_string()));
            row.push(longest(|r| r.oldest_ready_age_seconds));
            row.push(longest(|r| r.longest_running_seconds));
            rows.push(row);
        }
        let right = [false, false, true, true, true, true, true, true, true, true];
        table(&mut out, &rows, &right)?;
        if !report.paused_queues.is_empty() {
            let names: Vec<String> = report
                .paused_queues
                .iter()
                .map(|q| {
                    format!(
                        "{} (since {}, {})",
                        q.queue_name,
                        q.paused_at.as_deref().unwrap_or("?"),
                        plural(q.job_count.max(0) as usize, "job")
                    )
                })
                .collect();
            writeln!(out, "paused queues: {}", names.join(", "))?;
        }
        Ok(())
    }

    pub fn jobs_list(&self, report: &ListReport) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(report),
            Format::Human => {
                if report.jobs.is_empty() {
                    self.note("no jobs match");
                    return Ok(());
                }
                table(
                    &mut io::stdout().lock(),
                    &job_rows(&report.jobs),
                    &JOB_RIGHT,
                )
            }
        }
    }

    pub fn jobs_show(&self, report: &ShowReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let j = &report.job;
        let none = || "-".to_string();
        let lock = match (&j.locked_by, &j.locked_at) {
            (Some(by), Some(at)) => format!("{by} since {at} ({})", opt_age(j.lock_age_seconds)),
            _ => none(),
        };
        let payload = serde_json::to_string_pretty(&j.payload).unwrap_or_default();
        let fields: Vec<(&str, String)> = vec![
            ("id", j.id.to_string()),
            ("state", j.state.clone()),
            ("task", j.task_identifier.clone()),
            ("queue", j.queue_name.clone().unwrap_or_else(none)),
            ("database id", j.database_id.clone()),
            ("key", j.key.clone().unwrap_or_else(none)),
            ("priority", j.priority.to_string()),
            ("run at", j.run_at.clone()),
            ("attempts", format!("{} of {}", j.attempts, j.max_attempts)),
            ("locked by", lock),
            ("last error", j.last_error.clone().unwrap_or_else(none)),
            ("created at", j.created_at.clone()),
            ("updated at", j.updated_at.clone()),
            ("payload", payload),
        ];
        let mut out = io::stdout().lock();
        for (name, value) in fields {
            let mut lines = value.lines();
            writeln!(out, "{name:<12} {}", lines.next().unwrap_or(""))?;
            for line in lines {
                writeln!(out, "{:<12} {line}", "")?;
            }
        }
        Ok(())
    }

    /// What retry, cancel or purge did: the count, then the jobs.
    pub fn jobs_operation(&self, report: &OperationReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let verb = match report.action {
            "retry" => "retried",
            "cancel" => "cancelled",
            _ => "purged",
        };
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "{verb} {} in {}",
            plural(report.count, "job"),
            report.database
        )?;
        if !report.jobs.is_empty() && !self.quiet() {
            table(&mut out, &job_rows(&report.jobs), &JOB_RIGHT)?;
        }
        Ok(())
    }

    pub fn jobs_queue(&self, report: &QueueReport) -> io::Result<()> {
        if self.format == Format::Json {
            return self.json(report);
        }
        let mut out = io::stdout().lock();
        let jobs = report
            .queue
            .as_ref()
            .map_or(0, |q| q.job_count.max(0) as usize);
        match (report.action, &report.queue) {
            ("pause", _) => writeln!(
                out,
                "paused queue {} in {} (1 queue row; {} waiting)",
                report.queue_name,
                report.database,
                plural(jobs, "job")
            ),
            (_, Some(_)) => writeln!(
                out,
                "resumed queue {} in {} (1 queue row; {} claimable again)",
                report.queue_name,
                report.database,
                plural(jobs, "job")
            ),
            (_, None) => writeln!(
                out,
                "queue {} in {} has no jobs and no pause: nothing to resume (0 queue rows)",
                report.queue_name, report.database
            ),
        }
    }
}
