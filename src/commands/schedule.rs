//! `jobsctl schedule run`: fire the due scheduled jobs of a database by
//! calling `app_jobs.run_due_scheduled_jobs()` once, or every `--every`
//! seconds until Ctrl-C (or `--max-runs` calls).
//!
//! The schedule lives in the database: this command is just one more
//! caller, like a worker loop or pg_cron. Several may run at once; each
//! slot still fires once. Every call is its own transaction (autocommit),
//! so a fired job is visible to workers as soon as the call returns.
//!
//! Output (`output::schedule`): one line per fired job on stdout (human),
//! or, with `--format json`, one document at the end:
//! `{"database": ..., "runs": N, "fired": [...]}`.
//! Server warnings (a definition stopped for an invalid schedule) go to
//! stderr. Ctrl-C while waiting for the next call stops cleanly (exit 0);
//! Ctrl-C during a call cancels it, its transaction rolls back, and jobsctl
//! exits with 130.

use super::project::Project;
use crate::cli::{ScheduleArgs, ScheduleCommand, ScheduleRunArgs};
use crate::db::Settings;
use crate::engine;
use crate::error::Error;
use crate::interrupt;
use crate::output::Printer;
use crate::output::schedule::{Fired, ScheduleReport};
use std::time::{Duration, Instant};

const RUN_DUE: &str = "\
SELECT r.scheduled_job_id, s.task_identifier,
       to_char(r.slot AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), r.job_id
  FROM app_jobs.run_due_scheduled_jobs(max_jobs := $1::integer) AS r
  LEFT JOIN app_jobs.scheduled_jobs AS s ON s.id = r.scheduled_job_id
 ORDER BY r.slot, r.scheduled_job_id";

/// The database is chosen as for every other command (`-d`, `--target`,
/// the environment, jobsctl.toml, the dev cluster): `Project::connection`.
pub fn run(project: &Project, args: &ScheduleArgs, printer: &Printer) -> Result<(), Error> {
    match &args.command {
        ScheduleCommand::Run(run_args) => {
            let every = check(run_args)?;
            let (settings, _) = project.connection(&run_args.connection, printer)?;
            run_due(&settings, run_args, every, printer)
        }
    }
}

/// Usage errors, before any connection: the period of `--every`.
fn check(options: &ScheduleRunArgs) -> Result<Option<Duration>, Error> {
    let every = match options.every {
        None => None,
        Some(seconds) => match Duration::try_from_secs_f64(seconds) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                return Err(Error::Usage(format!(
                    "--every {seconds}: expected a positive number of seconds"
                )));
            }
        },
    };
    if options.max_runs.is_some() && every.is_none() {
        return Err(Error::Usage("--max-runs needs --every".into()));
    }
    if options.max_runs == Some(0) {
        return Err(Error::Usage("--max-runs must be at least 1".into()));
    }
    if options.max_jobs < 1 {
        return Err(Error::Usage(format!(
            "--max-jobs {}: expected at least 1",
            options.max_jobs
        )));
    }
    Ok(every)
}

fn run_due(
    settings: &Settings,
    options: &ScheduleRunArgs,
    every: Option<Duration>,
    printer: &Printer,
) -> Result<(), Error> {
    let mut client = settings
        .connect(Some(printer.notice_handler()))
        .map_err(engine::Error::from)?;
    interrupt::install();
    interrupt::watch(settings, &client);
    printer.begin("schedule run", &settings.describe());

    let mut report = ScheduleReport {
        database: settings.describe(),
        runs: 0,
        fired: Vec::new(),
    };
    loop {
        let started = Instant::now();
        let rows = client
            .query(RUN_DUE, &[&options.max_jobs])
            .map_err(|e| engine::Error::query("app_jobs.run_due_scheduled_jobs", e))?;
        report.runs += 1;
        for row in rows {
            let fired = Fired {
                scheduled_job_id: row.get(0),
                task_identifier: row.get(1),
                slot: row.get(2),
                job_id: row.get(3),
            };
            printer.fired(&fired)?;
            report.fired.push(fired);
        }

        let Some(every) = every else { break };
        if options.max_runs.is_some_and(|max| report.runs >= max) {
            break;
        }
        // wait for the next call, waking up often enough to notice Ctrl-C
        let next = started + every;
        while !interrupt::is_interrupted() {
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_millis(100)));
        }
        if interrupt::is_interrupted() {
            printer.note("interrupted: stopped between calls");
            break;
        }
    }

    printer.schedule_report(&report)?;
    Ok(())
}
