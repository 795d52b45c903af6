//! A claimed job, running it with its task's handler, and the one log line
//! per job.

use super::config::Handler;
use super::{Shared, callback, exec, http};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The columns of a claimed `app_jobs.jobs` row the worker uses.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub database_id: String,
    pub queue_name: Option<String>,
    pub task: String,
    /// The payload as JSON text.
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub key: Option<String>,
}

/// The columns of `get_jobs`' rows, in `Job::from_row`'s order.
pub const COLUMNS: &str = "id, database_id::text, queue_name, task_identifier, payload::text, \
                           attempts, max_attempts, key";

impl Job {
    pub fn from_row(row: &tokio_postgres::Row) -> Job {
        Job {
            id: row.get(0),
            database_id: row.get(1),
            queue_name: row.get(2),
            task: row.get(3),
            payload: row.get(4),
            attempts: row.get(5),
            max_attempts: row.get(6),
            key: row.get(7),
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed(String),
}

/// Longest error message recorded in `last_error`.
pub const MAX_ERROR: usize = 2000;

/// Run `job` with its task's handler. `None`: the handler was stopped by
/// shutdown, and the job is left for `release_jobs`.
pub async fn run(
    shared: &Arc<Shared>,
    job: &Job,
    mut lost: watch::Receiver<bool>,
) -> Option<Outcome> {
    let Some(task) = shared.options.task(&job.task) else {
        // Claims name only our tasks; a row changed by hand could still
        // come back with another one.
        return Some(Outcome::Failed(format!(
            "jobsctl worker {} has no handler for task {}",
            shared.options.worker_id, job.task
        )));
    };
    let mut kill = shared.kill.subscribe();
    let exec_lost = lost.clone();
    let handler = async {
        match &task.handler {
            Handler::Exec { argv } => exec::run(shared, task, argv, job, exec_lost).await,
            Handler::Http { url } => Some(http::run_job(shared, task, url, job).await),
            Handler::Callback { url } => Some(callback::run_job(shared, task, url, job).await),
            Handler::Noop => Some(Outcome::Completed),
        }
    };
    if let Handler::Exec { .. } = task.handler {
        // exec watches `kill` itself, to stop its process group.
        return handler.await;
    }
    tokio::select! {
        outcome = handler => outcome,
        _ = kill.wait_for(|k| *k) => None,
        _ = lost.wait_for(|l| *l) => None,
    }
}

/// The one line per job: task, id, attempt, duration, outcome.
pub fn log(job: &Job, duration: Duration, outcome: Option<&Outcome>) {
    let duration_ms = (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    match outcome {
        Some(Outcome::Completed) => tracing::info!(
            task = %job.task, job_id = job.id, attempt = job.attempts,
            max_attempts = job.max_attempts, duration_ms, outcome = "completed",
            "job completed"
        ),
        Some(Outcome::Failed(error)) => tracing::warn!(
            task = %job.task, job_id = job.id, attempt = job.attempts,
            max_attempts = job.max_attempts, duration_ms, outcome = "failed",
            error = %error, "job failed"
        ),
        None => tracing::warn!(
            task = %job.task, job_id = job.id, attempt = job.attempts,
            max_attempts = job.max_attempts, duration_ms, outcome = "stopped",
            "job stopped by shutdown; it will be released"
        ),
    }
}

/// The line of a job whose lock was lost while it ran: its handler was
/// stopped and its outcome is not recorded (another worker may run it).
pub fn log_lost(job: &Job, duration: Duration) {
    let duration_ms = (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    tracing::warn!(
        task = %job.task, job_id = job.id, attempt = job.attempts,
        max_attempts = job.max_attempts, duration_ms, outcome = "lock_lost",
        "job stopped: its lock was lost; the outcome is not recorded"
    );
}

/// `text` cut to its last `max` bytes (on a character boundary), marked
/// with `…` when cut.
pub fn tail(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// `text` cut to its first `max` bytes, marked with `…` when cut.
pub fn head(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_characters_whole() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("aébc", 3), "…bc");
        assert_eq!(head("aébc", 2), "a…");
    }
}
