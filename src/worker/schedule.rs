//! The scheduler tick: every second the worker calls
//! `app_jobs.run_due_scheduled_jobs()`, which fires each due slot of each
//! scheduled job exactly once however many callers race (so no separate
//! scheduler process is needed); `--no-schedule` turns it off. An idle
//! call is one index probe.

use super::Shared;
use super::db::Conn;
use std::time::Duration;

pub const INTERVAL: Duration = Duration::from_secs(1);

pub async fn tick(shared: &Shared, conn: &mut Conn) -> Result<(), ()> {
    let client = conn.client().await.map_err(|_| ())?;
    match client
        .query("SELECT job_id FROM app_jobs.run_due_scheduled_jobs()", &[])
        .await
    {
        Ok(rows) => {
            if !rows.is_empty() {
                tracing::debug!(jobs = rows.len(), "fired scheduled jobs");
                shared.wake.notify_one();
            }
            Ok(())
        }
        Err(error) => {
            if !conn.check(&error) {
                tracing::error!("run_due_scheduled_jobs failed: {}", super::describe(&error));
            }
            Err(())
        }
    }
}
