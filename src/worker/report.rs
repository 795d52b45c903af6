//! Reporting outcomes in small batches: the first outcome waits at most
//! `report_delay` for others, then one `complete_claimed_jobs` call for
//! the completed jobs and one `fail_claimed_jobs` call per error message.
//! A lost connection keeps the batch and retries after reconnecting (both
//! functions only act on jobs this worker still holds, so a retry after a
//! commit whose answer was lost does nothing twice).

use super::Shared;
use super::db::Conn;
use super::job::Outcome;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// At most this many outcomes per batch.
const BATCH: usize = 500;
/// When shutting down, give up retrying after this long.
const FINAL_RETRIES: Duration = Duration::from_secs(10);

pub struct Report {
    pub id: i64,
    pub task: String,
    pub outcome: Outcome,
}

/// Runs until every sender is gone and everything received is reported.
pub async fn run(shared: Arc<Shared>, mut conn: Conn, mut outcomes: UnboundedReceiver<Report>) {
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + shared.options.report_delay;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, outcomes.recv()).await {
                Ok(Some(report)) => batch.push(report),
                _ => break,
            }
        }
        let mut giving_up: Option<tokio::time::Instant> = None;
        let calls = calls(&batch);
        let mut done = 0;
        loop {
            match send(&shared, &mut conn, &batch, &calls, &mut done).await {
                Ok(()) => break,
                Err(()) => {
                    if *shared.stop.borrow() {
                        let at = *giving_up
                            .get_or_insert_with(|| tokio::time::Instant::now() + FINAL_RETRIES);
                        if tokio::time::Instant::now() >= at {
                            tracing::error!(
                                jobs = batch.len(),
                                "could not report outcomes before stopping; their locks will expire"
                            );
                            break;
                        }
                    }
                    conn.pause().await;
                }
            }
        }
        let mut held = shared.held.lock().expect("not poisoned");
        for report in &batch {
            held.remove(&report.id);
        }
    }
}

type Call<'a> = (&'static str, Vec<i64>, Option<&'a str>);

/// The calls that report a batch: completions, then failures per message.
fn calls(batch: &[Report]) -> Vec<Call<'_>> {
    let completed: Vec<i64> = batch
        .iter()
        .filter(|r| r.outcome == Outcome::Completed)
        .map(|r| r.id)
        .collect();
    let mut failed: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for report in batch {
        if let Outcome::Failed(message) = &report.outcome {
            failed.entry(message).or_default().push(report.id);
        }
    }
    let mut calls: Vec<Call> = Vec::new();
    if !completed.is_empty() {
        calls.push(("complete_claimed_jobs", completed, None));
    }
    for (message, ids) in failed {
        calls.push(("fail_claimed_jobs", ids, Some(message)));
    }
    calls
}

/// Make the calls from `*done` on; `*done` counts those that succeeded.
async fn send(
    shared: &Shared,
    conn: &mut Conn,
    batch: &[Report],
    calls: &[Call<'_>],
    done: &mut usize,
) -> Result<(), ()> {
    let worker_id = &shared.options.worker_id;
    let client = conn.client().await.map_err(|_| ())?;
    for (function, ids, message) in &calls[*done..] {
        let result = match message {
            None => {
                client
                    .query(
                        "SELECT id FROM app_jobs.complete_claimed_jobs($1, $2::bigint[])",
                        &[worker_id, ids],
                    )
                    .await
            }
            Some(message) => {
                let message = *message;
                client
                    .query(
                        "SELECT id FROM app_jobs.fail_claimed_jobs($1, $2::bigint[], $3)",
                        &[worker_id, ids, &message],
                    )
                    .await
            }
        };
        match result {
            Ok(rows) => {
                if rows.len() < ids.len() {
                    let done: std::collections::HashSet<i64> =
                        rows.iter().map(|r| r.get(0)).collect();
                    for id in ids.iter().filter(|id| !done.contains(id)) {
                        let task = batch
                            .iter()
                            .find(|r| r.id == *id)
                            .map_or("", |r| r.task.as_str());
                        tracing::warn!(
                            job_id = id,
                            task,
                            "{function}: the job is no longer this worker's (its lock expired and was taken back); the outcome was not recorded"
                        );
                    }
                }
                *done += 1;
            }
            Err(error) => {
                if conn.check(&error) {
                    return Err(());
                }
                tracing::error!("{function} failed: {}", super::describe(&error));
                return Err(());
            }
        }
    }
    Ok(())
}
