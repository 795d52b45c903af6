//! The lock report (`locks::report`): per change, the locks it takes on
//! relations that existed before, as text or as one JSON value. The
//! renderers are free functions as well, so that another command's
//! output (`lint --locks`) can embed them.

use super::{DIM, ERROR, HEADING, PACKAGE, Printer, WARN};
use crate::cli::Format;
use crate::locks::report::{LockReport, RelationLock, Status};
use crate::text::plural;
use std::io::{self, Write};

impl Printer {
    pub fn lock_report(&self, report: &LockReport) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(&to_json(report)),
            Format::Human => human(&mut anstream::stdout().lock(), report),
        }
    }
}

/// The report as a JSON value (the `lock_report` of a document).
pub fn to_json(report: &LockReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_default()
}

/// `AccessExclusiveLock` as the SQL says it: `ACCESS EXCLUSIVE`.
pub fn mode_name(mode: &str) -> String {
    let bare = mode.strip_suffix("Lock").unwrap_or(mode);
    let mut words = String::new();
    for (i, c) in bare.char_indices() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_uppercase());
    }
    words
}

/// `1.2 MB`
fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn lock_line(out: &mut impl Write, lock: &RelationLock) -> io::Result<()> {
    let style = if lock.flagged { ERROR } else { DIM };
    write!(
        out,
        "    {style}{:<22}{style:#} {}  {DIM}{}",
        mode_name(&lock.mode),
        lock.relation,
        lock.kind
    )?;
    if let Some(bytes) = lock.size_bytes {
        write!(out, ", {}", size(bytes))?;
    }
    match (lock.rows, lock.rows_counted) {
        (Some(rows), true) => write!(out, ", {rows} rows")?,
        (Some(rows), false) => write!(out, ", ~{rows} rows")?,
        (None, _) => {}
    }
    if let Some(previous) = &lock.previous_mode {
        write!(out, ", held {} before", mode_name(previous))?;
    }
    write!(out, "{DIM:#}")?;
    if lock.flagged {
        write!(
            out,
            "  {ERROR}flagged{ERROR:#}: blocks {} of a table with rows until the change commits",
            lock.blocks
        )?;
    }
    writeln!(out)
}

pub fn human(out: &mut impl Write, report: &LockReport) -> io::Result<()> {
    writeln!(
        out,
        "{HEADING}lock report{HEADING:#} {}  {DIM}({} run in one transaction, rolled back){DIM:#}",
        report.database,
        plural(report.changes.len(), "pending change")
    )?;
    if report.changes.is_empty() {
        return writeln!(out, "nothing pending: no change to measure");
    }
    for change in &report.changes {
        write!(
            out,
            "  {PACKAGE}{}{PACKAGE:#}:{}",
            change.package, change.change
        )?;
        match change.status {
            Status::Ran => writeln!(out)?,
            Status::Skipped => writeln!(
                out,
                "  {WARN}skipped{WARN:#}: {}",
                change.reason.as_deref().unwrap_or("")
            )?,
            Status::NotRun => writeln!(
                out,
                "  {DIM}not run: {}{DIM:#}",
                change.reason.as_deref().unwrap_or("")
            )?,
            Status::Failed => {
                writeln!(out, "  {ERROR}failed{ERROR:#}")?;
                if let Some(error) = &change.error {
                    for line in error.to_string().lines() {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
        }
        if change.status == Status::Ran && change.locks.is_empty() {
            writeln!(
                out,
                "    {DIM}no new lock on a relation that existed before{DIM:#}"
            )?;
        }
        for lock in &change.locks {
            lock_line(out, lock)?;
        }
    }
    if report.flagged > 0 {
        writeln!(
            out,
            "{ERROR}{} flagged{ERROR:#}: ACCESS EXCLUSIVE on a table with rows",
            plural(report.flagged, "lock")
        )?;
    } else {
        writeln!(out, "no lock flagged")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_as_sql() {
        assert_eq!(mode_name("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(mode_name("ShareRowExclusiveLock"), "SHARE ROW EXCLUSIVE");
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 kB");
    }
}
