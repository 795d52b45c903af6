//! `jobsctl jobs`: operate the app_jobs queue of a database (see
//! `crate::queue` for the queries and `output::jobs` for the documents).
//!
//! The database is chosen as for every other command (`-d`, `--target`,
//! the environment, jobsctl.toml, the dev cluster). Mutating subcommands
//! (retry, cancel, purge, pause, resume) first say what they would touch
//! and ask on a terminal; elsewhere they need -y, or stop with a usage
//! error (exit 2) before changing anything.

use super::project::Project;
use crate::cli::{JobState, JobsArgs, JobsCommand, JobsFilterArgs, JobsQueueArgs, JobsStatsArgs};
use crate::db::Settings;
use crate::engine;
use crate::error::Error;
use crate::interrupt;
use crate::output::Printer;
use crate::output::jobs::{ListReport, OperationReport, QueueReport, ShowReport, StatsReport};
use crate::queue::{self, ListFilter, Operation, Scope};
use crate::text::plural;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub fn run(project: &Project, args: &JobsArgs, printer: &Printer) -> Result<(), Error> {
    match &args.command {
        JobsCommand::Stats(a) => {
            let watch = check_watch(a, printer)?;
            check_uuid(a.database_id.as_deref())?;
            let (settings, mut client) = connect(project, &a.connection, printer)?;
            stats(&settings, &mut client, a, watch, printer)
        }
        JobsCommand::List(a) => {
            let scope = scope(Vec::new(), &a.filter)?;
            let (settings, mut client) = connect(project, &a.connection, printer)?;
            let filter = ListFilter {
                scope,
                state: a.state.map(state_name).map(String::from),
                limit: a.limit,
            };
            let jobs =
                queue::list(&mut client, &filter).map_err(|e| sql_error("listing jobs", e))?;
            printer.jobs_list(&ListReport {
                database: settings.describe(),
                jobs,
            })?;
            Ok(())
        }
        JobsCommand::Show(a) => {
            let (settings, mut client) = connect(project, &a.connection, printer)?;
            let job =
                queue::show(&mut client, a.id).map_err(|e| sql_error("reading the job", e))?;
            let Some(job) = job else {
                return Err(engine::Error::Query(format!(
                    "no job {} in {}",
                    a.id,
                    settings.describe()
                ))
                .into());
            };
            printer.jobs_show(&ShowReport {
                database: settings.describe(),
                job,
            })?;
            Ok(())
        }
        JobsCommand::Retry(a) => {
            let operation = Operation::Retry {
                scope: scope(a.ids.clone(), &a.filter)?,
                run_at: a.run_at.clone(),
            };
            operate(project, &a.connection, operation, a.yes.yes, printer)
        }
        JobsCommand::Cancel(a) => {
            let scope = scope(a.ids.clone(), &a.filter)?;
            if scope.is_empty() {
                return Err(Error::Usage(
                    "jobs cancel needs job ids, --task, --queue or --database-id (it never cancels every job)".into(),
                ));
            }
            operate(
                project,
                &a.connection,
                Operation::Cancel { scope },
                a.yes.yes,
                printer,
            )
        }
        JobsCommand::Purge(a) => {
            let operation = Operation::Purge {
                scope: scope(Vec::new(), &a.filter)?,
                older_than: queue::interval_text(&a.older_than),
            };
            operate(project, &a.connection, operation, a.yes.yes, printer)
        }
        JobsCommand::Pause(a) => pause_or_resume(project, a, true, printer),
        JobsCommand::Resume(a) => pause_or_resume(project, a, false, printer),
    }
}

fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Ready => "ready",
        JobState::Scheduled => "scheduled",
        JobState::Running => "running",
        JobState::Retrying => "retrying",
        JobState::Failed => "failed",
        JobState::Paused => "paused",
    }
}

fn check_uuid(id: Option<&str>) -> Result<(), Error> {
    match id {
        Some(id) if !queue::check_uuid(id) => Err(Error::Usage(format!(
            "--database-id {id}: expected a uuid (like 5b720132-17d5-424d-9bcb-ee7b17c13d43)"
        ))),
        _ => Ok(()),
    }
}

fn scope(ids: Vec<i64>, filter: &JobsFilterArgs) -> Result<Scope, Error> {
    check_uuid(filter.database_id.as_deref())?;
    Ok(Scope {
        ids,
        task: filter.task.clone(),
        queue: filter.queue.clone(),
        database_id: filter.database_id.clone(),
    })
}

fn connect(
    project: &Project,
    connection: &crate::cli::ConnectionArgs,
    printer: &Printer,
) -> Result<(Settings, postgres::Client), Error> {
    let (settings, _) = project.connection(connection, printer)?;
    let client = settings
        .connect(Some(printer.notice_handler()))
        .map_err(engine::Error::from)?;
    interrupt::install();
    interrupt::watch(&settings, &client);
    Ok((settings, client))
}

/// A failed statement: an app_jobs older than @0.6.0 gets a hint, a value
/// the server rejects (from a flag: a timestamp, an interval) is a usage error.
fn sql_error(doing: &str, error: postgres::Error) -> Error {
    let code = error
        .code()
        .map(|c| c.code().to_owned())
        .unwrap_or_default();
    let engine_error = engine::Error::query(doing, error);
    match code.as_str() {
        "42883" | "42703" | "3F000" | "42P01" => Error::WithHint {
            error: Box::new(engine_error.into()),
            hint: "jobsctl jobs needs pgpm-jobs @0.6.0 or later in this database: run `jobsctl deploy`".into(),
        },
        c if c.starts_with("22") => Error::Usage(engine_error.to_string()),
        _ => engine_error.into(),
    }
}

/// `--watch`: a positive period, human format on a terminal only.
fn check_watch(args: &JobsStatsArgs, printer: &Printer) -> Result<Option<Duration>, Error> {
    let Some(seconds) = args.watch else {
        return Ok(None);
    };
    let period = match Duration::try_from_secs_f64(seconds) {
        Ok(d) if !d.is_zero() => d,
        _ => {
            return Err(Error::Usage(format!(
                "--watch {seconds}: expected a positive number of seconds"
            )));
        }
    };
    if printer.format() != crate::cli::Format::Human {
        return Err(Error::Usage(
            "--watch redraws a table: it needs --format human".into(),
        ));
    }
    if !std::io::stdout().is_terminal() {
        return Err(Error::Usage(
            "--watch redraws the table on a terminal, and stdout is not one; run `jobsctl jobs stats` repeatedly instead".into(),
        ));
    }
    Ok(Some(period))
}

fn stats(
    settings: &Settings,
    client: &mut postgres::Client,
    args: &JobsStatsArgs,
    watch: Option<Duration>,
    printer: &Printer,
) -> Result<(), Error> {
    loop {
        let started = Instant::now();
        let stats = queue::stats(client, args.database_id.as_deref())
            .map_err(|e| sql_error("app_jobs.job_stats", e))?;
        let report = StatsReport::new(settings.describe(), stats);
        let Some(period) = watch else {
            return Ok(printer.jobs_stats(&report)?);
        };
        {
            // home, clear the screen, then the table and when it was taken
            let mut out = std::io::stdout().lock();
            write!(out, "\x1b[H\x1b[2J")?;
            writeln!(
                out,
                "{} every {}s, Ctrl-C to stop\n",
                settings.describe(),
                period.as_secs_f64()
            )?;
        }
        printer.jobs_stats(&report)?;
        let next = started + period;
        while !interrupt::is_interrupted() && Instant::now() < next {
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(100)));
        }
        if interrupt::is_interrupted() {
            return Ok(());
        }
    }
}

/// Ask on a terminal; elsewhere -y is required. Ok(false) = answered no.
fn confirmed(question: &str, refusal: &str, yes: bool, printer: &Printer) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "refusing to {refusal} without confirmation: pass -y (--yes)"
        )));
    }
    Ok(printer.confirm(question, &[])?)
}

fn operate(
    project: &Project,
    connection: &crate::cli::ConnectionArgs,
    operation: Operation,
    yes: bool,
    printer: &Printer,
) -> Result<(), Error> {
    let (settings, mut client) = connect(project, connection, printer)?;
    let action = match operation {
        Operation::Retry { .. } => "retry",
        Operation::Cancel { .. } => "cancel",
        Operation::Purge { .. } => "purge",
    };
    let what = match operation {
        Operation::Cancel { .. } => "job that is not running",
        _ => "permanently failed job",
    };
    if !yes {
        let n = queue::preview(&mut client, &operation)
            .map_err(|e| sql_error("counting the jobs", e))?;
        if n == 0 {
            printer.note(&format!("no {what} matches: nothing to {action}"));
            return Ok(printer.jobs_operation(&OperationReport {
                database: settings.describe(),
                action,
                count: 0,
                jobs: Vec::new(),
            })?);
        }
        let jobs = plural(n as usize, what);
        let question = format!("{} {jobs} in {}?", capitalised(action), settings.describe());
        let refusal = format!("{action} {jobs} in {}", settings.describe());
        if !confirmed(&question, &refusal, yes, printer)? {
            return Err(Error::Usage(format!("{action} cancelled")));
        }
    }
    let jobs =
        queue::apply(&mut client, &operation).map_err(|e| sql_error(operation.function(), e))?;
    printer.jobs_operation(&OperationReport {
        database: settings.describe(),
        action,
        count: jobs.len(),
        jobs,
    })?;
    Ok(())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn pause_or_resume(
    project: &Project,
    args: &JobsQueueArgs,
    pause: bool,
    printer: &Printer,
) -> Result<(), Error> {
    let (settings, mut client) = connect(project, &args.connection, printer)?;
    let action = if pause { "pause" } else { "resume" };
    let question = format!(
        "{} queue {} in {}?",
        capitalised(action),
        args.queue,
        settings.describe()
    );
    let refusal = format!("{action} queue {} in {}", args.queue, settings.describe());
    if !confirmed(&question, &refusal, args.yes.yes, printer)? {
        return Err(Error::Usage(format!("{action} cancelled")));
    }
    let queue = if pause {
        queue::pause(&mut client, &args.queue).map_err(|e| sql_error("app_jobs.pause_queue", e))?
    } else {
        queue::resume(&mut client, &args.queue)
            .map_err(|e| sql_error("app_jobs.resume_queue", e))?
    };
    printer.jobs_queue(&QueueReport {
        database: settings.describe(),
        action,
        queue_name: args.queue.clone(),
        queue,
    })?;
    Ok(())
}
