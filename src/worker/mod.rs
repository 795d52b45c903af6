//! `jobsctl worker`: runs `app_jobs` jobs. One process claims jobs of the
//! tasks it has handlers for (`get_jobs`), runs them concurrently with
//! their handlers (exec, http, callback), reports outcomes in small
//! batches (`complete_claimed_jobs`, `fail_claimed_jobs`), keeps the locks
//! of running jobs fresh, fires due scheduled jobs, and on SIGTERM/SIGINT
//! drains and releases what is left. See docs/worker.md.
//!
//! One module per idea: `config` (handlers, options), `claim` (the claim
//! loop), `job` (running one job), `exec`, `http`, `callback` (handlers),
//! `report` (batched outcomes), `listen` (LISTEN/NOTIFY), `locks` (lock
//! refresh), `schedule` (the scheduler tick), `metrics`, `shutdown`
//! (signals), `serve` (the worker's own HTTP endpoints), `db`
//! (reconnecting sessions).
//!
//! Sessions: claims, reports, maintenance (locks, schedule, queue depth)
//! and LISTEN each have their own connection, opened with the same
//! settings (and TLS) as every other command.

mod callback;
mod claim;
pub mod config;
mod db;
mod exec;
mod http;
mod job;
mod listen;
mod locks;
mod metrics;
mod report;
mod schedule;
mod serve;
mod shutdown;

use crate::db::Settings;
use config::Options;
use db::Conn;
use job::Job;
use report::Report;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot, watch};

/// A job the worker holds: running, or ended with its outcome not yet reported.
struct Held {
    task: String,
    running: bool,
    lock_lost: bool,
    /// Set when the lock is found lost while the job runs: its handler is
    /// stopped (exec: process group killed; http/callback: request dropped)
    /// and its outcome not reported.
    lost: watch::Sender<bool>,
}

/// What the parts of a running worker share.
pub struct Shared {
    options: Options,
    settings: Settings,
    held: Mutex<HashMap<i64, Held>>,
    /// Handler process groups (exec), killed on a second signal.
    groups: Mutex<HashSet<i32>>,
    /// Pending callbacks (callback handler), by job id.
    callbacks: Mutex<HashMap<i64, oneshot::Sender<job::Outcome>>>,
    callback_url: OnceLock<String>,
    tls: OnceLock<Arc<rustls::ClientConfig>>,
    /// A job may be waiting (a notification, fired schedules).
    wake: Notify,
    /// A running job ended.
    slot_freed: Notify,
    /// Stop claiming.
    stop: watch::Sender<bool>,
    /// Stop the handlers.
    kill: watch::Sender<bool>,
    metrics: Arc<metrics::Metrics>,
    /// Outcomes to report; taken (closed) when the drain is over.
    reports: Mutex<Option<mpsc::UnboundedSender<Report>>>,
}

impl Shared {
    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        if let Some(tls) = self.tls.get() {
            return Ok(tls.clone());
        }
        let tls = http::tls_config()?;
        Ok(self.tls.get_or_init(|| tls).clone())
    }

    fn running(&self) -> usize {
        self.held
            .lock()
            .expect("not poisoned")
            .values()
            .filter(|h| h.running)
            .count()
    }
}

/// How the worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Stopped by a signal (or `--once`) with every job finished and reported.
    Clean,
    /// Jobs were stopped by the shutdown timeout and released.
    Interrupted,
}

/// Why the worker could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be reached at startup.
    #[error(transparent)]
    Connect(#[from] crate::db::DbError),
    /// Bad options, an address in use, `app_jobs` missing.
    #[error("{0}")]
    Setup(String),
}

/// A server error with its SQLSTATE, detail and hint.
pub fn describe(error: &tokio_postgres::Error) -> String {
    crate::db::describe_error(error)
}

/// Run until stopped.
pub async fn run(settings: Settings, options: Options) -> Result<Exit, Error> {
    if options.tasks.is_empty() {
        return Err(Error::Setup(
            "no tasks to run: give --task NAME=exec:PROGRAM ... (or http:URL, callback:URL, noop), or [worker.tasks.NAME] in jobsctl.toml".into(),
        ));
    }
    // Startup: an unreachable server or a database without app_jobs is a
    // setup error, not something to retry.
    let (client, _messages) = settings.connect_async().await?;
    let row = client
        .query_one(
            "SELECT to_regnamespace('app_jobs') IS NOT NULL
                    AND to_regprocedure('app_jobs.get_jobs(text,text[],interval,integer)') IS NOT NULL,
                    to_regnamespace('app_jobs') IS NOT NULL AND to_regprocedure($1::text) IS NOT NULL",
            &[&locks::FUNCTION],
        )
        .await
        .map_err(|e| Error::Setup(format!("cannot read app_jobs: {}", describe(&e))))?;
    let (has_batch_api, has_refresh): (bool, bool) = (row.get(0), row.get(1));
    if !has_batch_api {
        return Err(Error::Setup(format!(
            "{}: app_jobs is not deployed, or older than pgpm-jobs @0.3.0 (the worker needs get_jobs): run `jobsctl deploy`",
            settings.describe()
        )));
    }
    let expiry_seconds: f64 = client
        .query_one(
            "SELECT extract(epoch FROM app_jobs.job_expiry())::float8",
            &[],
        )
        .await
        .map_err(|e| Error::Setup(format!("app_jobs.job_expiry(): {}", describe(&e))))?
        .get(0);
    let expiry = Duration::from_secs_f64(expiry_seconds.max(0.0));
    let refresh_every = has_refresh.then(|| locks::interval(expiry));
    if !has_refresh {
        tracing::warn!(
            "app_jobs has no refresh_job_locks (pgpm-jobs older than @0.5.0): jobs running longer than the lock expiry ({}s) may be run twice; run `jobsctl deploy`",
            expiry.as_secs()
        );
    }
    // Our own jobs from an earlier run with this id (a fixed --worker-id).
    client
        .execute("SELECT app_jobs.release_jobs($1)", &[&options.worker_id])
        .await
        .map_err(|e| Error::Setup(format!("release_jobs: {}", describe(&e))))?;
    drop(client);

    let (reports, report_rx) = mpsc::unbounded_channel();
    let metrics = Arc::new(metrics::Metrics::new(
        options.tasks.iter().map(|t| t.name.as_str()),
    ));
    let shared = Arc::new(Shared {
        settings: settings.clone(),
        held: Mutex::default(),
        groups: Mutex::default(),
        callbacks: Mutex::default(),
        callback_url: OnceLock::new(),
        tls: OnceLock::new(),
        wake: Notify::new(),
        slot_freed: Notify::new(),
        stop: watch::channel(false).0,
        kill: watch::channel(false).0,
        metrics: metrics.clone(),
        reports: Mutex::new(Some(reports)),
        options,
    });
    let options = &shared.options;
    if let Some(addr) = options.metrics_addr {
        let local = serve::bind(
            addr,
            "--metrics-addr",
            metrics::handler(Arc::downgrade(&metrics)),
        )
        .await
        .map_err(Error::Setup)?;
        tracing::info!("metrics on http://{local}/metrics");
    }
    if options
        .tasks
        .iter()
        .any(|t| matches!(t.handler, config::Handler::Callback { .. }))
    {
        let Some(addr) = options.callback_addr else {
            return Err(Error::Setup(
                "callback tasks need --callback-addr HOST:PORT (where functions call back)".into(),
            ));
        };
        let local = serve::bind(
            addr,
            "--callback-addr",
            callback::handler(Arc::downgrade(&shared)),
        )
        .await
        .map_err(Error::Setup)?;
        let url = options
            .callback_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}/callback"));
        tracing::info!("callback URL {url}");
        let _ = shared.callback_url.set(url);
    }
    shutdown::spawn(shared.clone()).map_err(Error::Setup)?;
    tracing::info!(
        worker_id = %options.worker_id,
        tasks = %options.tasks.iter().map(|t| format!("{}={}", t.name, t.handler.kind())).collect::<Vec<_>>().join(","),
        concurrency = options.concurrency,
        "worker started on {}", settings.describe()
    );

    let reporter = tokio::spawn(report::run(
        shared.clone(),
        Conn::new(settings.clone(), "report"),
        report_rx,
    ));
    tokio::spawn(listen::run(shared.clone()));
    let (done_tx, done_rx) = watch::channel(false);
    let maintenance = tokio::spawn(maintain(shared.clone(), refresh_every, done_rx));

    let mut claims = Conn::new(settings.clone(), "claim");
    claim::run(&shared, &mut claims).await;
    drop(claims);

    // Drain: wait for running jobs, up to the shutdown timeout.
    let deadline = tokio::time::Instant::now() + options.shutdown_timeout;
    let mut exit = Exit::Clean;
    while shared.running() > 0 {
        let waited = tokio::time::timeout_at(deadline, shared.slot_freed.notified()).await;
        if waited.is_err() && shared.running() > 0 {
            tracing::warn!(
                jobs = shared.running(),
                "shutdown timeout: stopping the running handlers and releasing their jobs"
            );
            let _ = shared.kill.send(true);
            exit = Exit::Interrupted;
            let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
            while shared.running() > 0 && tokio::time::Instant::now() < give_up {
                let _ =
                    tokio::time::timeout(Duration::from_millis(50), shared.slot_freed.notified())
                        .await;
            }
            break;
        }
    }
    // Report what finished, then give back whatever is left.
    shared.reports.lock().expect("not poisoned").take();
    let _ = reporter.await;
    let _ = done_tx.send(true);
    let _ = maintenance.await;
    let left = shared.held.lock().expect("not poisoned").len();
    let mut conn = Conn::new(settings.clone(), "release");
    let give_up = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let result = match conn.client().await {
            Ok(client) => client
                .execute("SELECT app_jobs.release_jobs($1)", &[&options.worker_id])
                .await
                .map_err(|e| describe(&e)),
            Err(e) => Err(e),
        };
        match result {
            Ok(_) => {
                if left > 0 {
                    tracing::info!(jobs = left, "released unfinished jobs");
                }
                break;
            }
            Err(error) if tokio::time::Instant::now() >= give_up => {
                tracing::error!(
                    "release_jobs failed ({error}); the jobs come back when their locks expire"
                );
                break;
            }
            Err(_) => conn.pause().await,
        }
    }
    tracing::info!("worker stopped");
    Ok(exit)
}

/// Start a claimed job.
fn start_job(shared: &Arc<Shared>, job: Job) {
    let (lost, lost_rx) = watch::channel(false);
    shared.held.lock().expect("not poisoned").insert(
        job.id,
        Held {
            task: job.task.clone(),
            running: true,
            lock_lost: false,
            lost,
        },
    );
    shared.metrics.started(&job.task);
    let shared = shared.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        let outcome = job::run(&shared, &job, lost_rx).await;
        let duration = started.elapsed();
        let lost = {
            let mut held = shared.held.lock().expect("not poisoned");
            let lost = held.get(&job.id).is_some_and(|h| *h.lost.borrow());
            if lost {
                // Not ours any more: nothing to report, nothing to release.
                held.remove(&job.id);
            }
            lost
        };
        if lost {
            job::log_lost(&job, duration);
            shared.metrics.finished(&job.task, duration, None);
            shared.slot_freed.notify_one();
            return;
        }
        job::log(&job, duration, outcome.as_ref());
        shared.metrics.finished(
            &job.task,
            duration,
            outcome.as_ref().map(|o| *o == job::Outcome::Completed),
        );
        // A stopped job stays held until release_jobs gives it back.
        if let Some(h) = shared.held.lock().expect("not poisoned").get_mut(&job.id) {
            h.running = false;
        }
        if let Some(outcome) = outcome
            && let Some(reports) = shared.reports.lock().expect("not poisoned").as_ref()
        {
            let _ = reports.send(Report {
                id: job.id,
                task: job.task.clone(),
                outcome,
            });
        }
        shared.slot_freed.notify_one();
    });
}

/// Lock refresh, the scheduler tick and queue depth sampling, on one
/// session, until `done` (after the drain: locks are refreshed while jobs
/// drain; schedules stop firing with the first signal).
async fn maintain(
    shared: Arc<Shared>,
    refresh_every: Option<Duration>,
    mut done: watch::Receiver<bool>,
) {
    let mut conn = Conn::new(shared.settings.clone(), "maintenance");
    let now = tokio::time::Instant::now();
    let mut next_refresh = refresh_every.map(|d| now + d);
    let mut next_tick = shared.options.schedule.then_some(now);
    let mut next_depth = shared.options.metrics_addr.map(|_| now);
    let tasks: Vec<String> = shared
        .options
        .tasks
        .iter()
        .map(|t| t.name.clone())
        .collect();
    loop {
        if *shared.stop.borrow() {
            next_tick = None;
            next_depth = None;
        }
        let Some(next) = [next_refresh, next_tick, next_depth]
            .into_iter()
            .flatten()
            .min()
        else {
            let _ = done.wait_for(|d| *d).await;
            return;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = done.wait_for(|d| *d) => return,
            _ = async { let mut s = shared.stop.subscribe(); let _ = s.wait_for(|s| *s).await; }, if next_tick.is_some() || next_depth.is_some() => continue,
        }
        let now = tokio::time::Instant::now();
        if let (Some(at), Some(every)) = (next_refresh, refresh_every)
            && at <= now
        {
            let ok = locks::refresh(&shared, &mut conn).await.is_ok();
            // After a failure, try again soon: the expiry is the deadline.
            next_refresh = Some(
                now + if ok {
                    every
                } else {
                    every.min(Duration::from_secs(1))
                },
            );
        }
        if let Some(at) = next_tick
            && at <= now
        {
            let _ = schedule::tick(&shared, &mut conn).await;
            next_tick = Some(now + schedule::INTERVAL);
        }
        if let Some(at) = next_depth
            && at <= now
        {
            if let Ok(client) = conn.client().await {
                match metrics::sample_depth(client, &tasks).await {
                    Ok(depth) => shared.metrics.set_depth(depth),
                    Err(error) => {
                        conn.check(&error);
                    }
                }
                if let Ok(client) = conn.client().await {
                    match metrics::sample_states(client, &tasks).await {
                        Ok(Some(states)) => shared.metrics.set_states(states),
                        Ok(None) => {}
                        Err(error) => {
                            conn.check(&error);
                        }
                    }
                }
            }
            next_depth = Some(now + metrics::DEPTH_INTERVAL);
        }
    }
}
