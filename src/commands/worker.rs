//! `jobsctl worker`: merge flags with `[worker]` of jobsctl.toml, pick the
//! database like every other command, and run `crate::worker` on a tokio
//! runtime until it stops.

use super::project::Project;
use crate::cli::WorkerArgs;
use crate::error::{Error, exit};
use crate::output::Printer;
use crate::worker::{self, config};

pub fn run(project: &Project, args: &WorkerArgs, printer: &Printer) -> Result<(), Error> {
    let file = project.config.worker(&|name| std::env::var(name).ok())?;
    let options = options(args, file)?;
    let (settings, _) = project.connection(&args.connection, printer)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("jobsctl-worker")
        .build()
        .map_err(Error::Output)?;
    match runtime.block_on(worker::run(settings, options)) {
        Ok(worker::Exit::Clean) => Ok(()),
        Ok(worker::Exit::Interrupted) => Err(Error::Exit(exit::INTERRUPTED)),
        Err(worker::Error::Connect(e)) => Err(crate::engine::Error::from(e).into()),
        Err(worker::Error::Setup(message)) => Err(Error::Usage(message)),
    }
}

/// Flags over the file over the defaults.
fn options(
    args: &WorkerArgs,
    file: crate::config::WorkerSettings,
) -> Result<config::Options, Error> {
    let mut tasks = file.tasks;
    for flag in &args.tasks {
        let task = config::parse_task_flag(flag).map_err(Error::Usage)?;
        tasks.retain(|t| t.name != task.name);
        tasks.push(task);
    }
    let poll_interval = match args.poll_interval {
        Some(s) => config::seconds("--poll-interval", s, false).map_err(Error::Usage)?,
        None => file.poll_interval.unwrap_or(config::DEFAULT_POLL_INTERVAL),
    };
    let shutdown_timeout = match args.shutdown_timeout {
        Some(s) => config::seconds("--shutdown-timeout", s, true).map_err(Error::Usage)?,
        None => file
            .shutdown_timeout
            .unwrap_or(config::DEFAULT_SHUTDOWN_TIMEOUT),
    };
    if let Some(url) = &args.callback_url {
        config::check_url(url).map_err(|e| Error::Usage(format!("--callback-url: {e}")))?;
    }
    let worker_id = args
        .worker_id
        .clone()
        .or(file.worker_id)
        .unwrap_or_else(default_worker_id);
    if worker_id.trim().is_empty() {
        return Err(Error::Usage("--worker-id must not be empty".into()));
    }
    Ok(config::Options {
        worker_id,
        tasks,
        concurrency: args
            .concurrency
            .map(|c| c as usize)
            .or(file.concurrency)
            .unwrap_or(config::DEFAULT_CONCURRENCY),
        poll_interval,
        shutdown_timeout,
        schedule: !args.no_schedule && file.schedule.unwrap_or(true),
        once: args.once,
        metrics_addr: args.metrics_addr.or(file.metrics_addr),
        callback_addr: args.callback_addr.or(file.callback_addr),
        callback_url: args.callback_url.clone().or(file.callback_url),
        batch_size: 50,
        report_delay: std::time::Duration::from_millis(10),
    })
}

/// `<host>-<pid>-<8 hex digits>`: unique per process, readable in `locked_by`.
fn default_worker_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut name = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer.
    let ok = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } == 0;
    let host = if ok {
        let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
        String::from_utf8_lossy(&name[..end]).into_owned()
    } else {
        "worker".to_owned()
    };
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        hasher.finish() as u32
    )
}
