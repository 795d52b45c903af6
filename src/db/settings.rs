//! Connection settings resolved the way libpq resolves them.
//!
//! Precedence, option by option: the connection string given to jobsctl
//! (`--database-url`/`-d`), else `DATABASE_URL`, then the `PG*` variable of
//! each option the string left out, then libpq's defaults. An option given
//! with an empty value means its default, as in libpq (and an empty
//! variable counts as unset).

use super::DbError;
use super::conninfo::{self, Key};
use super::machine::{DEFAULT_SOCKET_DIRS, Machine, default_socket_dir, os_account};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connection settings resolved like libpq. Never prints the password:
/// `Debug` shows it as `<redacted>`, `describe()` leaves it out.
#[derive(Clone, Debug)]
pub struct Settings {
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) user: String,
    pub(crate) password: Option<Password>,
    pub(crate) dbname: String,
    pub(crate) ssl_mode: SslMode,
    pub(crate) ssl_root_cert: RootCert,
    pub(crate) ssl_direct: bool,
    pub(crate) application_name: String,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) options: Option<String>,
    pub(crate) passfile: Option<PathBuf>,
    pub(crate) session_attrs: SessionAttrs,
    pub(crate) channel_binding: ChannelBinding,
    pub(crate) keepalives: Option<Keepalives>,
    pub(crate) tcp_user_timeout: Option<Duration>,
}

/// libpq's `sslmode`. `allow` tries without TLS first and retries with TLS
/// when the server refuses the plain connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One host of the (possibly multi-host) target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) host: Host,
    /// libpq's `hostaddr`: connect here, but name the server `host` (for
    /// TLS and the password file).
    pub(crate) hostaddr: Option<IpAddr>,
    pub(crate) port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    Tcp(String),
    /// The folder holding the server's socket.
    Unix(PathBuf),
}

impl Endpoint {
    pub(crate) fn is_unix(&self) -> bool {
        matches!(self.host, Host::Unix(_))
    }

    /// The host as the password file names it: `localhost` for a default
    /// socket folder.
    pub(crate) fn pgpass_host(&self) -> String {
        match &self.host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(dir) if DEFAULT_SOCKET_DIRS.iter().any(|d| Path::new(d) == dir) => {
                "localhost".to_owned()
            }
            Host::Unix(dir) => dir.display().to_string(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]")?,
            Host::Tcp(name) => f.write_str(name)?,
            Host::Unix(dir) => write!(f, "{}", dir.display())?,
        }
        match self.hostaddr {
            Some(addr) if Host::Tcp(addr.to_string()) != self.host => write!(f, " ({addr})")?,
            _ => {}
        }
        write!(f, ":{}", self.port)
    }
}

/// Where the root certificates for verifying the server come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// Not given: `~/.postgresql/root.crt`, used only if it exists (`None`
    /// when there is no home folder).
    Default(Option<PathBuf>),
    /// `sslrootcert=PATH`: must exist.
    File(PathBuf),
    /// `sslrootcert=system`: the operating system's trusted roots.
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Keepalives {
    pub(crate) idle: Duration,
    pub(crate) interval: Duration,
    pub(crate) count: u32,
}

/// A password that never shows itself in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(pub(crate) Vec<u8>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

pub(crate) const DEFAULT_PORT: u16 = 5432;
pub(crate) const DEFAULT_APPLICATION_NAME: &str = "jobsctl";

/// Where a value came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Argument,
    DatabaseUrl,
    Variable(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Argument => f.write_str("connection string"),
            Origin::DatabaseUrl => f.write_str("DATABASE_URL"),
            Origin::Variable(name) => f.write_str(name),
        }
    }
}

/// The options as given, before defaults.
struct Given(HashMap<Key, (String, Origin)>);

impl Given {
    /// The non-empty value of `key`, with its origin.
    fn get(&self, key: Key) -> Option<(&str, Origin)> {
        self.0
            .get(&key)
            .filter(|(v, _)| !v.is_empty())
            .map(|(v, o)| (v.as_str(), *o))
    }

    fn text(&self, key: Key) -> Option<String> {
        self.get(key).map(|(v, _)| v.to_owned())
    }

    fn error(&self, key: Key, message: String) -> DbError {
        let origin = self
            .0
            .get(&key)
            .map(|(_, o)| *o)
            .unwrap_or(Origin::Argument);
        DbError::invalid(origin.to_string(), message)
    }

    /// An integer option, as libpq's `parse_int_param` reads it.
    fn int(&self, key: Key) -> Result<Option<i64>, DbError> {
        let Some((text, _)) = self.get(key) else {
            return Ok(None);
        };
        text.trim().parse::<i64>().map(Some).map_err(|_| {
            self.error(
                key,
                format!(
                    "invalid integer value \"{text}\" for connection option \"{}\"",
                    key.name()
                ),
            )
        })
    }

    fn seconds(&self, key: Key) -> Result<Option<Duration>, DbError> {
        Ok(self
            .int(key)?
            .filter(|n| *n > 0)
            .map(|n| Duration::from_secs(n as u64)))
    }

    fn choice<T: Copy>(&self, key: Key, choices: &[(&str, T)]) -> Result<Option<T>, DbError> {
        let Some((text, _)) = self.get(key) else {
            return Ok(None);
        };
        match choices.iter().find(|(name, _)| *name == text) {
            Some((_, value)) => Ok(Some(*value)),
            None => {
                let names: Vec<_> = choices.iter().map(|(n, _)| *n).collect();
                Err(self.error(
                    key,
                    format!(
                        "invalid {} value \"{text}\" (expected one of: {})",
                        key.name(),
                        names.join(", ")
                    ),
                ))
            }
        }
    }
}

impl Settings {
    /// Resolve `database_url` (the `--database-url`/`-d` value: a
    /// `postgres://`/`postgresql://` URL, a `key=value` conninfo string, or
    /// a bare database name as with `psql -d`), `DATABASE_URL`, the `PG*`
    /// variables and libpq's defaults, in that order. `env` stands for the
    /// process environment.
    pub fn resolve(
        database_url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, DbError> {
        Settings::resolve_on(
            database_url,
            &Machine {
                env,
                account: &os_account,
                socket_dir: &default_socket_dir,
            },
        )
    }

    /// `resolve` with the process environment.
    pub fn from_env(database_url: Option<&str>) -> Result<Settings, DbError> {
        Settings::resolve(database_url, &|name| std::env::var(name).ok())
    }

    /// `resolve` on a given machine (environment, operating system account,
    /// default socket folder): the options as given, then each group of
    /// options with its defaults and checks, in libpq's order.
    pub(crate) fn resolve_on(
        database_url: Option<&str>,
        machine: &Machine<'_>,
    ) -> Result<Settings, DbError> {
        let env = |name: &str| (machine.env)(name).filter(|v| !v.is_empty());
        let given = Given::read(database_url, &env)?;

        let account = (machine.account)();
        let home = env("HOME")
            .map(PathBuf::from)
            .or_else(|| account.as_ref().and_then(|(_, home)| home.clone()));

        let endpoints = endpoints(&given, machine.socket_dir)?;
        let identity = Identity::resolve(&given, account, home.as_deref())?;
        let tls = Tls::resolve(&given, home.as_deref())?;
        let session = Session::resolve(&given)?;
        let tcp = Tcp::resolve(&given)?;

        Ok(Settings {
            endpoints,
            user: identity.user,
            password: identity.password,
            dbname: identity.dbname,
            ssl_mode: tls.ssl_mode,
            ssl_root_cert: tls.ssl_root_cert,
            ssl_direct: tls.ssl_direct,
            application_name: session.application_name,
            connect_timeout: session.connect_timeout,
            options: session.options,
            passfile: identity.passfile,
            session_attrs: session.session_attrs,
            channel_binding: session.channel_binding,
            keepalives: tcp.keepalives,
            tcp_user_timeout: tcp.tcp_user_timeout,
        })
    }

    /// The database these settings connect to.
    pub fn database(&self) -> &str {
        &self.dbname
    }

    /// The user these settings connect as.
    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The same settings for another database.
    pub fn with_database(&self, name: &str) -> Settings {
        Settings {
            dbname: name.to_owned(),
            ..self.clone()
        }
    }

    /// The libpq environment variables that make a libpq program (psql, or
    /// a jobsctl child process) connect where these settings connect, for
    /// `Command::envs`. Holds the password (PGPASSWORD) when there is one:
    /// pass it to a child's environment only, never print it.
    pub fn libpq_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        use std::ffi::OsString;
        let join = |parts: Vec<String>| OsString::from(parts.join(","));
        let mut env = vec![
            (
                "PGHOST",
                join(
                    self.endpoints
                        .iter()
                        .map(|e| match &e.host {
                            Host::Tcp(name) => name.clone(),
                            Host::Unix(dir) => dir.display().to_string(),
                        })
                        .collect(),
                ),
            ),
            (
                "PGPORT",
                join(self.endpoints.iter().map(|e| e.port.to_string()).collect()),
            ),
            ("PGUSER", OsString::from(&self.user)),
            ("PGDATABASE", OsString::from(&self.dbname)),
            ("PGSSLMODE", OsString::from(self.ssl_mode.as_str())),
            ("PGAPPNAME", OsString::from(&self.application_name)),
        ];
        if self.endpoints.iter().any(|e| e.hostaddr.is_some()) {
            env.push((
                "PGHOSTADDR",
                join(
                    self.endpoints
                        .iter()
                        .map(|e| e.hostaddr.map(|a| a.to_string()).unwrap_or_default())
                        .collect(),
                ),
            ));
        }
        match &self.ssl_root_cert {
            RootCert::File(path) => env.push(("PGSSLROOTCERT", path.clone().into_os_string())),
            RootCert::System => env.push(("PGSSLROOTCERT", OsString::from("system"))),
            RootCert::Default(_) => {}
        }
        if let Some(password) = &self.password {
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStringExt;
                env.push(("PGPASSWORD", OsString::from_vec(password.0.clone())));
            }
        }
        if let Some(file) = &self.passfile {
            env.push(("PGPASSFILE", file.clone().into_os_string()));
        }
        if let Some(options) = &self.options {
            env.push(("PGOPTIONS", OsString::from(options)));
        }
        if let Some(timeout) = self.connect_timeout {
            env.push((
                "PGCONNECT_TIMEOUT",
                OsString::from(timeout.as_secs().max(2).to_string()),
            ));
        }
        match self.session_attrs {
            SessionAttrs::Any => {}
            SessionAttrs::ReadWrite => env.push(("PGTARGETSESSIONATTRS", "read-write".into())),
            SessionAttrs::ReadOnly => env.push(("PGTARGETSESSIONATTRS", "read-only".into())),
        }
        match self.channel_binding {
            ChannelBinding::Prefer => {}
            ChannelBinding::Disable => env.push(("PGCHANNELBINDING", "disable".into())),
            ChannelBinding::Require => env.push(("PGCHANNELBINDING", "require".into())),
        }
        env
    }

    /// `user@host:port/database`, hosts separated by commas, with
    /// `(sslmode=...)` when it is not the default and a host is reached
    /// over TCP. Never the password.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self.endpoints.iter().map(|e| e.to_string()).collect();
        let mut text = format!("{}@{}/{}", self.user, hosts.join(","), self.dbname);
        if self.ssl_mode != SslMode::Prefer && self.endpoints.iter().any(|e| !e.is_unix()) {
            text.push_str(&format!(" (sslmode={})", self.ssl_mode));
        }
        text
    }
}

impl Given {
    /// The options as given: the connection string (`database_url`, else
    /// `DATABASE_URL`), then, for each option it leaves out, the option's
    /// `PG*` variable. `env` returns set, non-empty variables only.
    fn read(
        database_url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Given, DbError> {
        let mut given = Given(HashMap::new());
        let source = match database_url.filter(|s| !s.trim().is_empty()) {
            Some(text) => Some((text.to_owned(), Origin::Argument)),
            None => env("DATABASE_URL").map(|text| (text, Origin::DatabaseUrl)),
        };
        if let Some((text, origin)) = source {
            let assignments =
                conninfo::parse(&text).map_err(|m| DbError::invalid(origin.to_string(), m))?;
            for (key, value) in assignments {
                given.0.insert(key, (value, origin));
            }
        }
        for (key, _, variable) in Key::ALL {
            if let Some(variable) = variable
                && !given.0.contains_key(&key)
                && let Some(value) = env(variable)
            {
                given.0.insert(key, (value, Origin::Variable(variable)));
            }
        }
        Ok(given)
    }
}

/// Who connects to which database: `user`, `dbname`, `password`, `passfile`.
struct Identity {
    user: String,
    dbname: String,
    password: Option<Password>,
    passfile: Option<PathBuf>,
}

impl Identity {
    /// The user defaults to the operating system `account`'s name, the
    /// database to the user's name, the password file to `~/.pgpass`.
    fn resolve(
        given: &Given,
        account: Option<(String, Option<PathBuf>)>,
        home: Option<&Path>,
    ) -> Result<Identity, DbError> {
        let user = match given.text(Key::User) {
            Some(user) => user,
            None => account.map(|(name, _)| name).ok_or_else(|| {
                DbError::invalid(
                    "connection settings",
                    "could not determine the operating system user name; set PGUSER or give a user",
                )
            })?,
        };
        let dbname = given.text(Key::DbName).unwrap_or_else(|| user.clone());
        let password = given.text(Key::Password).map(|p| Password(p.into_bytes()));
        let passfile = given
            .text(Key::PassFile)
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".pgpass")));
        Ok(Identity {
            user,
            dbname,
            password,
            passfile,
        })
    }
}

/// TLS: `sslmode`, `sslrootcert` and `sslnegotiation`.
struct Tls {
    ssl_mode: SslMode,
    ssl_root_cert: RootCert,
    ssl_direct: bool,
}

impl Tls {
    /// libpq's defaults (`prefer`, `~/.postgresql/root.crt` when it
    /// exists, `verify-full` with `sslrootcert=system`) and its refusals of
    /// weak modes with `sslrootcert=system` or `sslnegotiation=direct`.
    fn resolve(given: &Given, home: Option<&Path>) -> Result<Tls, DbError> {
        let ssl_root_cert = match given.text(Key::SslRootCert) {
            Some(system) if system == "system" => RootCert::System,
            Some(path) => RootCert::File(PathBuf::from(path)),
            None => RootCert::Default(home.map(|h| h.join(".postgresql/root.crt"))),
        };
        let modes: Vec<(&str, SslMode)> = SslMode::ALL.iter().map(|m| (m.as_str(), *m)).collect();
        let ssl_mode = match given.choice(Key::SslMode, &modes)? {
            Some(mode) if ssl_root_cert == RootCert::System && mode != SslMode::VerifyFull => {
                return Err(given.error(
                    Key::SslMode,
                    format!("weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"),
                ));
            }
            Some(mode) => mode,
            None if ssl_root_cert == RootCert::System => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        let ssl_direct = given
            .choice(
                Key::SslNegotiation,
                &[("postgres", false), ("direct", true)],
            )?
            .unwrap_or(false);
        if ssl_direct
            && matches!(
                ssl_mode,
                SslMode::Disable | SslMode::Allow | SslMode::Prefer
            )
        {
            return Err(given.error(
                Key::SslNegotiation,
                format!("weak sslmode \"{ssl_mode}\" may not be used with sslnegotiation=direct (use \"require\" or stronger)"),
            ));
        }
        Ok(Tls {
            ssl_mode,
            ssl_root_cert,
            ssl_direct,
        })
    }
}

/// The session asked for: `application_name` (else
/// `fallback_application_name`), `connect_timeout`, `options`,
/// `target_session_attrs` and `channel_binding`.
struct Session {
    application_name: String,
    connect_timeout: Option<Duration>,
    options: Option<String>,
    session_attrs: SessionAttrs,
    channel_binding: ChannelBinding,
}

impl Session {
    fn resolve(given: &Given) -> Result<Session, DbError> {
        let application_name = given
            .text(Key::ApplicationName)
            .or_else(|| given.text(Key::FallbackApplicationName))
            .unwrap_or_else(|| DEFAULT_APPLICATION_NAME.to_owned());
        // libpq: zero or negative waits forever; the minimum is 2 seconds.
        let connect_timeout = given
            .seconds(Key::ConnectTimeout)?
            .map(|t| t.max(Duration::from_secs(2)));
        let session_attrs = given
            .choice(
                Key::TargetSessionAttrs,
                &[
                    ("any", SessionAttrs::Any),
                    ("read-write", SessionAttrs::ReadWrite),
                    ("read-only", SessionAttrs::ReadOnly),
                ],
            )?
            .unwrap_or(SessionAttrs::Any);
        let channel_binding = given
            .choice(
                Key::ChannelBinding,
                &[
                    ("disable", ChannelBinding::Disable),
                    ("prefer", ChannelBinding::Prefer),
                    ("require", ChannelBinding::Require),
                ],
            )?
            .unwrap_or(ChannelBinding::Prefer);
        Ok(Session {
            application_name,
            connect_timeout,
            options: given.text(Key::Options),
            session_attrs,
            channel_binding,
        })
    }
}

/// TCP: `keepalives` (`_idle`, `_interval`, `_count`) and `tcp_user_timeout`.
struct Tcp {
    keepalives: Option<Keepalives>,
    tcp_user_timeout: Option<Duration>,
}

impl Tcp {
    /// Keepalives are on unless `keepalives=0` (idle 60 s, interval 10 s,
    /// 6 probes by default); the user timeout is in milliseconds.
    fn resolve(given: &Given) -> Result<Tcp, DbError> {
        let keepalives = match given.int(Key::Keepalives)? {
            Some(0) => None,
            _ => Some(Keepalives {
                idle: given
                    .seconds(Key::KeepalivesIdle)?
                    .unwrap_or(Duration::from_secs(60)),
                interval: given
                    .seconds(Key::KeepalivesInterval)?
                    .unwrap_or(Duration::from_secs(10)),
                count: match given.int(Key::KeepalivesCount)? {
                    Some(n) if n > 0 => u32::try_from(n).unwrap_or(u32::MAX),
                    _ => 6,
                },
            }),
        };
        let tcp_user_timeout = given
            .int(Key::TcpUserTimeout)?
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms as u64));
        Ok(Tcp {
            keepalives,
            tcp_user_timeout,
        })
    }
}

/// Hosts, host addresses and ports, paired as libpq pairs them: one port
/// for all hosts, or one port per host.
fn endpoints(given: &Given, socket_dir: &dyn Fn(u16) -> PathBuf) -> Result<Vec<Endpoint>, DbError> {
    let split = |key| {
        given
            .get(key)
            .map(|(v, _)| v.split(',').map(str::trim).collect::<Vec<_>>())
    };
    let hosts = split(Key::Host);
    let addrs = split(Key::HostAddr);
    let count = match (&hosts, &addrs) {
        (Some(h), Some(a)) if h.len() != a.len() => {
            return Err(given.error(
                Key::HostAddr,
                format!(
                    "could not match {} host names to {} hostaddr values",
                    h.len(),
                    a.len()
                ),
            ));
        }
        (Some(h), _) => h.len(),
        (None, Some(a)) => a.len(),
        (None, None) => 1,
    };
    let ports = split(Key::Port).unwrap_or_else(|| vec![""]);
    if ports.len() != 1 && ports.len() != count {
        return Err(given.error(
            Key::Port,
            format!(
                "could not match {} port numbers to {count} hosts",
                ports.len()
            ),
        ));
    }
    (0..count)
        .map(|i| {
            let port_text = if ports.len() == 1 { ports[0] } else { ports[i] };
            let port = if port_text.is_empty() {
                DEFAULT_PORT
            } else {
                port_text
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| {
                        given.error(Key::Port, format!("invalid port number: \"{port_text}\""))
                    })?
            };
            let hostaddr = match addrs.as_ref().map(|a| a[i]).filter(|a| !a.is_empty()) {
                Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
                    given.error(Key::HostAddr, format!("invalid hostaddr \"{text}\""))
                })?),
                None => None,
            };
            let host = match hosts.as_ref().map(|h| h[i]).filter(|h| !h.is_empty()) {
                Some(dir) if dir.starts_with('/') => Host::Unix(PathBuf::from(dir)),
                Some(name) => Host::Tcp(name.to_owned()),
                None => match hostaddr {
                    Some(addr) => Host::Tcp(addr.to_string()),
                    None => Host::Unix(socket_dir(port)),
                },
            };
            Ok(Endpoint {
                host,
                hostaddr,
                port,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
