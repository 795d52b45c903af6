//! Opening a session: one host after the other as libpq does, the password
//! from the settings or the password file, TLS as `sslmode` says, and
//! server notices handed to the caller.

use super::error::explain;
use super::pgpass::{self, Lookup};
use super::settings::{ChannelBinding, Endpoint, Host, SessionAttrs, Settings, SslMode};
use super::{DbError, NoticeHandler, tls};
use std::path::PathBuf;
use tokio_postgres::config::{self as pgconfig, SslNegotiation};
use tokio_postgres_rustls::MakeRustlsConnect;

/// One way of reaching one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    Plain,
    /// TLS, falling back to plain when the server has no TLS (`prefer`).
    TlsPreferred,
    /// TLS or nothing.
    TlsRequired,
}

impl Attempt {
    fn label(self) -> &'static str {
        match self {
            Attempt::Plain => "without TLS",
            Attempt::TlsPreferred | Attempt::TlsRequired => "with TLS",
        }
    }
}

/// The attempts for one host, in order. Unix sockets never use TLS (the
/// server does not offer it there, and libpq does not ask).
fn attempts(mode: SslMode, endpoint: &Endpoint) -> &'static [Attempt] {
    if endpoint.is_unix() {
        return &[Attempt::Plain];
    }
    match mode {
        SslMode::Disable => &[Attempt::Plain],
        SslMode::Allow => &[Attempt::Plain, Attempt::TlsRequired],
        SslMode::Prefer => &[Attempt::TlsPreferred, Attempt::Plain],
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => &[Attempt::TlsRequired],
    }
}

/// Whether a failed attempt is worth the next one for the same host:
/// `allow` retries with TLS when the server refused the plain session,
/// `prefer` retries without TLS when the TLS handshake failed.
fn retry_after(attempt: Attempt, error: &postgres::Error) -> bool {
    match attempt {
        Attempt::Plain => error.as_db_error().is_some(),
        Attempt::TlsPreferred => tls::is_handshake_failure(error),
        Attempt::TlsRequired => false,
    }
}

struct Failure {
    endpoint: String,
    attempt: Attempt,
    error: postgres::Error,
}

/// Every failed attempt of one connect, and the notes its error message
/// will carry (as libpq words them).
#[derive(Default)]
struct Tried {
    failures: Vec<Failure>,
    notes: Vec<String>,
}

impl Tried {
    /// `attempt` at `endpoint` failed; a refused password that came from
    /// the password file says so, once.
    fn failed(
        &mut self,
        endpoint: &Endpoint,
        attempt: Attempt,
        error: postgres::Error,
        password_file: Option<&std::path::Path>,
    ) {
        if let Some(path) = password_file
            && error.code() == Some(&postgres::error::SqlState::INVALID_PASSWORD)
        {
            let note = format!("password retrieved from file \"{}\"", path.display());
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        self.failures.push(Failure {
            endpoint: endpoint.to_string(),
            attempt,
            error,
        });
    }
}

impl Settings {
    /// Connect. The session's `application_name` is `jobsctl` unless
    /// `PGAPPNAME`/`application_name` says otherwise; TCP keepalives are on
    /// (idle 60 s, interval 10 s, 6 probes, unless the connection string
    /// says otherwise); `connect_timeout` applies to each host. The password
    /// comes from the settings, else from the password file (see
    /// `pgpass.rs` for its rules). Every notice and warning the server sends
    /// is passed to `notices` when given.
    pub fn connect(&self, notices: Option<NoticeHandler>) -> Result<postgres::Client, DbError> {
        let mut connector: Option<MakeRustlsConnect> = None;
        let mut tried = Tried::default();
        for endpoint in &self.endpoints {
            let (password, from_file) = self.password_for(endpoint, &mut tried.notes)?;
            let plan = attempts(self.ssl_mode, endpoint);
            for (i, attempt) in plan.iter().copied().enumerate() {
                let config = self.config(endpoint, password.as_deref(), attempt, notices.clone());
                let result = match attempt {
                    Attempt::Plain => config.connect(postgres::NoTls),
                    Attempt::TlsPreferred | Attempt::TlsRequired => {
                        let tls = match &connector {
                            Some(tls) => tls.clone(),
                            None => connector.insert(tls::connector(self)?).clone(),
                        };
                        config.connect(tls)
                    }
                };
                match result {
                    Ok(client) => return Ok(client),
                    Err(error) => {
                        let again = i + 1 < plan.len() && retry_after(attempt, &error);
                        tried.failed(endpoint, attempt, error, from_file.as_deref());
                        if !again {
                            break;
                        }
                    }
                }
            }
        }
        Err(self.connect_error(tried.failures, &tried.notes))
    }

    /// Send a cancel request for whatever `token`'s session is running
    /// (for Ctrl-C), over TLS when that session used TLS, verified the same
    /// way.
    pub fn cancel(&self, token: &postgres::CancelToken) -> Result<(), DbError> {
        // A session that used TLS was made with this very connector, so
        // when it cannot be built the session was a plain one.
        let connector = match self.ssl_mode {
            SslMode::Disable => None,
            _ if self.endpoints.iter().all(Endpoint::is_unix) => None,
            _ => tls::connector(self).ok(),
        };
        let result = match connector {
            Some(tls) => token.cancel_query(tls),
            None => token.cancel_query(postgres::NoTls),
        };
        result.map_err(|error| DbError::Cancel {
            target: self.describe(),
            message: explain(&error),
            error,
        })
    }

    /// Connect asynchronously (for the worker), with the same hosts,
    /// password lookup, TLS attempts and session settings as `connect`.
    /// The connection is driven by a task spawned on the current tokio
    /// runtime; what the server sends outside of queries (notifications,
    /// notices) arrives on the returned channel, which closes when the
    /// connection ends.
    pub async fn connect_async(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::AsyncMessage>,
        ),
        DbError,
    > {
        let mut connector: Option<MakeRustlsConnect> = None;
        let mut tried = Tried::default();
        for endpoint in &self.endpoints {
            let (password, from_file) = self.password_for(endpoint, &mut tried.notes)?;
            let plan = attempts(self.ssl_mode, endpoint);
            for (i, attempt) in plan.iter().copied().enumerate() {
                let config = self.async_config(endpoint, password.as_deref(), attempt);
                let result = match attempt {
                    Attempt::Plain => config
                        .connect(tokio_postgres::NoTls)
                        .await
                        .map(|(client, connection)| (client, drive(connection))),
                    Attempt::TlsPreferred | Attempt::TlsRequired => {
                        let tls = match &connector {
                            Some(tls) => tls.clone(),
                            None => connector.insert(tls::connector(self)?).clone(),
                        };
                        config
                            .connect(tls)
                            .await
                            .map(|(client, connection)| (client, drive(connection)))
                    }
                };
                match result {
                    Ok(pair) => return Ok(pair),
                    Err(error) => {
                        let again = i + 1 < plan.len() && retry_after(attempt, &error);
                        tried.failed(endpoint, attempt, error, from_file.as_deref());
                        if !again {
                            break;
                        }
                    }
                }
            }
        }
        Err(self.connect_error(tried.failures, &tried.notes))
    }

    /// The password for one host, and the file it came from; a password
    /// file that was ignored leaves a note for the error message.
    fn password_for(
        &self,
        endpoint: &Endpoint,
        notes: &mut Vec<String>,
    ) -> Result<(Option<Vec<u8>>, Option<PathBuf>), DbError> {
        if let Some(password) = &self.password {
            return Ok((Some(password.0.clone()), None));
        }
        let Some(path) = &self.passfile else {
            return Ok((None, None));
        };
        let host = endpoint.pgpass_host();
        Ok(
            match pgpass::lookup(path, &host, endpoint.port, &self.dbname, &self.user)? {
                Lookup::Found(password) => (Some(password), Some(path.clone())),
                Lookup::NoMatch => (None, None),
                Lookup::Ignored(reason) => {
                    if !notes.contains(&reason) {
                        notes.push(reason);
                    }
                    (None, None)
                }
            },
        )
    }

    fn config(
        &self,
        endpoint: &Endpoint,
        password: Option<&[u8]>,
        attempt: Attempt,
        notices: Option<NoticeHandler>,
    ) -> postgres::Config {
        let mut config = postgres::Config::from(self.async_config(endpoint, password, attempt));
        if let Some(handler) = notices {
            config.notice_callback(move |notice| handler(&notice));
        }
        config
    }

    /// The session's settings for one attempt, shared by the blocking and
    /// the asynchronous connection.
    fn async_config(
        &self,
        endpoint: &Endpoint,
        password: Option<&[u8]>,
        attempt: Attempt,
    ) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        match &endpoint.host {
            Host::Tcp(name) => config.host(name),
            Host::Unix(dir) => config.host_path(dir),
        };
        if let Some(addr) = endpoint.hostaddr {
            config.hostaddr(addr);
        }
        config
            .port(endpoint.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&self.application_name)
            .ssl_mode(match attempt {
                Attempt::Plain => pgconfig::SslMode::Disable,
                Attempt::TlsPreferred => pgconfig::SslMode::Prefer,
                Attempt::TlsRequired => pgconfig::SslMode::Require,
            })
            .target_session_attrs(match self.session_attrs {
                SessionAttrs::Any => pgconfig::TargetSessionAttrs::Any,
                SessionAttrs::ReadWrite => pgconfig::TargetSessionAttrs::ReadWrite,
                SessionAttrs::ReadOnly => pgconfig::TargetSessionAttrs::ReadOnly,
            })
            .channel_binding(match self.channel_binding {
                ChannelBinding::Disable => pgconfig::ChannelBinding::Disable,
                ChannelBinding::Prefer => pgconfig::ChannelBinding::Prefer,
                ChannelBinding::Require => pgconfig::ChannelBinding::Require,
            });
        if self.ssl_direct && attempt != Attempt::Plain {
            config.ssl_negotiation(SslNegotiation::Direct);
        }
        if let Some(password) = password {
            config.password(password);
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        if let Some(timeout) = self.connect_timeout {
            config.connect_timeout(timeout);
        }
        match self.keepalives {
            Some(k) => {
                config
                    .keepalives(true)
                    .keepalives_idle(k.idle)
                    .keepalives_interval(k.interval)
                    .keepalives_retries(k.count);
            }
            None => {
                config.keepalives(false);
            }
        }
        if let Some(timeout) = self.tcp_user_timeout {
            config.tcp_user_timeout(timeout);
        }
        config
    }

    fn connect_error(&self, mut failures: Vec<Failure>, notes: &[String]) -> DbError {
        let many_hosts = self.endpoints.len() > 1;
        let mut parts: Vec<String> = failures
            .iter()
            .map(|f| {
                let mut prefix = String::new();
                if many_hosts {
                    prefix.push_str(&f.endpoint);
                }
                // Say which attempt failed when one host had two.
                if failures.iter().filter(|g| g.endpoint == f.endpoint).count() > 1 {
                    if !prefix.is_empty() {
                        prefix.push(' ');
                    }
                    prefix.push('(');
                    prefix.push_str(f.attempt.label());
                    prefix.push(')');
                }
                let mut text = explain(&f.error);
                if let Some(hint) = tls::certificate_hint(self, &f.error) {
                    text = format!("{text} ({hint})");
                }
                if prefix.is_empty() {
                    text
                } else {
                    format!("{prefix}: {text}")
                }
            })
            .collect();
        let error = failures
            .pop()
            .expect("every host was tried at least once")
            .error;
        let needs_password = error.code() == Some(&postgres::error::SqlState::INVALID_PASSWORD)
            || explain(&error).contains("password missing");
        for note in notes {
            let about_ignored_file = note.ends_with("it was ignored");
            if !about_ignored_file || needs_password {
                parts.push(note.clone());
            }
        }
        DbError::Connect {
            target: self.describe(),
            message: parts.join("; "),
            error,
        }
    }
}

/// Spawn the task that drives an asynchronous connection, forwarding its
/// notifications and notices.
fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
) -> tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::AsyncMessage>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
            match message {
                Ok(message) => {
                    // A closed receiver only means nobody listens any more.
                    let _ = sender.send(message);
                }
                Err(error) => {
                    tracing::debug!(%error, "connection ended");
                    break;
                }
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn endpoint(host: Host) -> Endpoint {
        Endpoint {
            host,
            hostaddr: None,
            port: 5432,
        }
    }

    #[test]
    fn attempts_follow_sslmode() {
        let tcp = endpoint(Host::Tcp("h".into()));
        let unix = endpoint(Host::Unix(PathBuf::from("/tmp")));
        use Attempt::*;
        assert_eq!(attempts(SslMode::Disable, &tcp), &[Plain]);
        assert_eq!(attempts(SslMode::Allow, &tcp), &[Plain, TlsRequired]);
        assert_eq!(attempts(SslMode::Prefer, &tcp), &[TlsPreferred, Plain]);
        for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            assert_eq!(attempts(mode, &tcp), &[TlsRequired]);
            assert_eq!(attempts(mode, &unix), &[Plain]);
        }
    }
}
