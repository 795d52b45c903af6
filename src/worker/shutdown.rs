//! Signals: the first SIGTERM or SIGINT stops claiming; running jobs get
//! `--shutdown-timeout` to finish, then their handlers are stopped and the
//! jobs released (`release_jobs`: no attempt spent). A second signal kills
//! the handlers' process groups and exits at once with 130 (the jobs come
//! back through lock expiry).

use super::Shared;
use super::exec::kill_group;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};

pub fn spawn(shared: Arc<Shared>) -> Result<(), String> {
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        let running = shared.running();
        tracing::info!(
            "{name}: no more claims; waiting up to {}s for {running} running job(s) (a second signal stops at once)",
            shared.options.shutdown_timeout.as_secs_f64()
        );
        let _ = shared.stop.send(true);
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        let groups: Vec<i32> = shared
            .groups
            .lock()
            .expect("not poisoned")
            .iter()
            .copied()
            .collect();
        for pid in groups {
            kill_group(pid);
        }
        tracing::warn!(
            "second signal ({name}): stopping now; unfinished jobs come back when their locks expire"
        );
        std::process::exit(i32::from(crate::interrupt::EXIT_CODE));
    });
    Ok(())
}
