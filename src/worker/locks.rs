//! Lock refresh: while a job runs (and until its outcome is reported), the
//! worker moves its lock forward with `app_jobs.refresh_job_locks` (added
//! in pgpm-jobs `@0.5.0`) every quarter of the lock expiry (at most every
//! minute), so a job longer than the expiry is not taken over while its
//! worker lives; a dead worker stops refreshing and its jobs come back
//! through expiry as before.

use super::Shared;
use super::db::Conn;
use std::time::Duration;

/// The function's signature, to find out whether the database has it.
pub const FUNCTION: &str = "app_jobs.refresh_job_locks(text,bigint[])";

/// Refresh period for a lock expiry.
pub fn interval(expiry: Duration) -> Duration {
    (expiry / 4).clamp(Duration::from_millis(200), Duration::from_secs(60))
}

/// Refresh the locks of every job this worker holds; jobs it no longer
/// holds are logged (once each).
pub async fn refresh(shared: &Shared, conn: &mut Conn) -> Result<(), ()> {
    let ids: Vec<i64> = shared
        .held
        .lock()
        .expect("not poisoned")
        .keys()
        .copied()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let client = conn.client().await.map_err(|_| ())?;
    match client
        .query(
            "SELECT app_jobs.refresh_job_locks($1, $2::bigint[])",
            &[&shared.options.worker_id, &ids],
        )
        .await
    {
        Ok(rows) => {
            let kept: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
            let mut held = shared.held.lock().expect("not poisoned");
            for id in ids.iter().filter(|id| !kept.contains(id)) {
                if let Some(h) = held.get_mut(id)
                    && !h.lock_lost
                {
                    h.lock_lost = true;
                    tracing::warn!(job_id = id, task = %h.task, "the job's lock was lost (expired and taken back, or removed by an administrator); its outcome will not be recorded");
                    if h.running {
                        // Stop its handler: another worker may run it now.
                        let _ = h.lost.send(true);
                    }
                }
            }
            Ok(())
        }
        Err(error) => {
            if !conn.check(&error) {
                tracing::error!("refreshing job locks failed: {}", super::describe(&error));
            }
            Err(())
        }
    }
}
