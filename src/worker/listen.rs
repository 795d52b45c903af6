//! Waking up: a session LISTENs on `jobs:insert` and wakes the claim loop
//! at each notification. Polling (the claim loop's `--poll-interval`)
//! stays the source of correctness: notifications are lost while the
//! session is reconnecting, so a reconnect wakes the loop too.

use super::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::AsyncMessage;

pub const CHANNEL: &str = "jobs:insert";

pub async fn run(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    let mut pause = Duration::from_millis(100);
    let mut down = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let connected = async {
            let (client, messages) = shared
                .settings
                .connect_async()
                .await
                .map_err(|e| e.to_string())?;
            client
                .batch_execute(&format!("LISTEN \"{CHANNEL}\""))
                .await
                .map_err(|e| super::describe(&e))?;
            Ok::<_, String>((client, messages))
        };
        match connected.await {
            Ok((client, mut messages)) => {
                if down {
                    tracing::info!(session = "listen", "listening again on {CHANNEL}");
                }
                pause = Duration::from_millis(100);
                shared.wake.notify_one();
                loop {
                    tokio::select! {
                        message = messages.recv() => match message {
                            Some(AsyncMessage::Notification(_)) => shared.wake.notify_one(),
                            Some(_) => {}
                            None => break,
                        },
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
                drop(client);
                tracing::warn!(
                    session = "listen",
                    "lost the LISTEN connection; reconnecting (polling meanwhile)"
                );
                down = true;
            }
            Err(error) => {
                if !down {
                    tracing::warn!(
                        session = "listen",
                        "cannot LISTEN on {CHANNEL} ({error}); retrying (polling meanwhile)"
                    );
                    down = true;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
