//! The worker's sessions: each part (claims, reports, maintenance) owns
//! one connection that is opened on first use and reopened after it is
//! lost, with a growing pause between attempts. A lost connection is
//! logged once (and its recovery once), not at every failed attempt.

use crate::db::Settings;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// One reconnecting session.
pub struct Conn {
    settings: Settings,
    /// Which part of the worker uses it, for the log.
    label: &'static str,
    client: Option<Client>,
    down_since: Option<Instant>,
    pause: Duration,
}

impl Conn {
    pub fn new(settings: Settings, label: &'static str) -> Conn {
        Conn {
            settings,
            label,
            client: None,
            down_since: None,
            pause: FIRST_PAUSE,
        }
    }

    /// A session that is (as far as we know) open; connects first when
    /// needed. A failure is reported once per outage.
    pub async fn client(&mut self) -> Result<&Client, String> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.lost("the connection closed");
        }
        if self.client.is_none() {
            match self.settings.connect_async().await {
                Ok((client, _messages)) => {
                    if let Some(since) = self.down_since.take() {
                        tracing::info!(
                            session = self.label,
                            "reconnected after {:.1}s",
                            since.elapsed().as_secs_f64()
                        );
                    }
                    self.pause = FIRST_PAUSE;
                    self.client = Some(client);
                }
                Err(error) => {
                    let message = error.to_string();
                    self.lost(&message);
                    return Err(message);
                }
            }
        }
        Ok(self.client.as_ref().expect("connected above"))
    }

    /// After a failed statement: forget the session when the error means
    /// it is gone (closed, terminated by an administrator, connection
    /// errors), so that the next use reconnects. Returns whether it was.
    pub fn check(&mut self, error: &tokio_postgres::Error) -> bool {
        if is_connection_error(error) || self.client.as_ref().is_some_and(Client::is_closed) {
            self.lost(&error.to_string());
            true
        } else {
            false
        }
    }

    fn lost(&mut self, why: &str) {
        self.client = None;
        if self.down_since.is_none() {
            self.down_since = Some(Instant::now());
            tracing::warn!(
                session = self.label,
                "lost the database connection ({why}); reconnecting"
            );
        } else {
            tracing::debug!(session = self.label, "still no database connection: {why}");
        }
    }

    /// Wait before the next attempt: 0.1 s, doubling up to 5 s.
    pub async fn pause(&mut self) {
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
    }
}

/// Errors after which the session cannot be used: no server error at all
/// (I/O, closed), or SQLSTATE classes 08 (connection exception) and 57
/// (operator intervention: `pg_terminate_backend`, shutdown).
pub fn is_connection_error(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || code.starts_with("57")
        }
        None => error.as_db_error().is_none(),
    }
}
