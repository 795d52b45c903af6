//! The claim loop: while slots are free, claim jobs of the tasks that have
//! room with `get_jobs` (one call for the tasks without a limit of their
//! own, one per limited task), start them, and claim again when a batch
//! came back full, as soon as half the slots are free (at most 2 ms later:
//! one call for several jobs rather than one per freed slot); otherwise sleep until a notification, a freed
//! slot (when we were full), the poll interval or shutdown. One claim is in
//! flight at a time.

use super::db::Conn;
use super::job::{COLUMNS, Job};
use super::{Shared, start_job};
use std::sync::Arc;
use std::time::Duration;

/// Task groups to claim now: (task names, at most this many jobs).
fn claimable(shared: &Shared) -> Vec<(Vec<String>, usize)> {
    let held = shared.held.lock().expect("not poisoned");
    let running_total = held.values().filter(|h| h.running).count();
    let free = shared.options.concurrency.saturating_sub(running_total);
    if free == 0 {
        return Vec::new();
    }
    let mut open = Vec::new();
    let mut groups = Vec::new();
    for task in &shared.options.tasks {
        match task.max_concurrency {
            None => open.push(task.name.clone()),
            Some(limit) => {
                let running = held
                    .values()
                    .filter(|h| h.running && h.task == task.name)
                    .count();
                let room = limit.saturating_sub(running).min(free);
                if room > 0 {
                    groups.push((vec![task.name.clone()], room));
                }
            }
        }
    }
    if !open.is_empty() {
        groups.insert(0, (open, free));
    }
    groups
}

pub async fn run(shared: &Arc<Shared>, conn: &mut Conn) {
    let mut stop = shared.stop.subscribe();
    let poll = shared.options.poll_interval;
    loop {
        if *stop.borrow() {
            return;
        }
        let groups = claimable(shared);
        if groups.is_empty() {
            // Full: wait for a slot.
            tokio::select! {
                _ = shared.slot_freed.notified() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        let mut claimed = 0;
        let mut full = false;
        let mut failed = false;
        let mut free = shared.options.concurrency - shared.running();
        for (tasks, room) in groups {
            let batch = room.min(free).min(shared.options.batch_size);
            if batch == 0 {
                break;
            }
            match claim(shared, conn, &tasks, batch).await {
                Ok(jobs) => {
                    full |= jobs.len() == batch;
                    claimed += jobs.len();
                    free -= jobs.len();
                    for job in jobs {
                        start_job(shared, job);
                    }
                }
                Err(()) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            tokio::select! {
                _ = conn.pause() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        if full {
            // More is waiting: claim again when half the slots are free.
            gather(shared).await;
            continue;
        }
        if shared.options.once
            && claimed == 0
            && shared.held.lock().expect("not poisoned").is_empty()
        {
            tracing::info!("nothing runnable is left (--once); stopping");
            let _ = shared.stop.send(true);
            return;
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shared.slot_freed.notified(), if shared.options.once => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// After a slot of a full worker freed: wait until half the slots are free,
/// at most [`GATHER`], so that the next claim takes several jobs in one
/// `get_jobs` call instead of one call per freed slot.
async fn gather(shared: &Shared) {
    let want = (shared.options.concurrency / 2).max(1);
    let deadline = tokio::time::Instant::now() + GATHER;
    while shared.running() + want > shared.options.concurrency {
        if tokio::time::timeout_at(deadline, shared.slot_freed.notified())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// How long a full worker waits for more of its slots to free before claiming.
const GATHER: Duration = Duration::from_millis(2);

/// One `get_jobs` call; errors are logged (connection losses once).
async fn claim(
    shared: &Shared,
    conn: &mut Conn,
    tasks: &[String],
    batch: usize,
) -> Result<Vec<Job>, ()> {
    let client = conn.client().await.map_err(|_| ())?;
    let sql = format!(
        "SELECT {COLUMNS} FROM app_jobs.get_jobs($1, $2::text[], NULL::interval, $3::integer)"
    );
    let batch = batch as i32;
    match client
        .query(&sql, &[&shared.options.worker_id, &tasks, &batch])
        .await
    {
        Ok(rows) => Ok(rows.iter().map(Job::from_row).collect()),
        Err(error) => {
            if !conn.check(&error) {
                tracing::error!("claiming jobs failed: {}", super::describe(&error));
            }
            Err(())
        }
    }
}
