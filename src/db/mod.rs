//! Talking to PostgreSQL: connection settings resolved like libpq (flags,
//! `DATABASE_URL`, `PG*` variables, the password file, TLS) and
//! `--createdb`.
//!
//! tokio-postgres reads none of libpq's environment, password file or
//! `verify-*` modes, so this module does it:
//!
//! - **Sources** (`settings.rs`): the `--database-url`/`-d` value (a
//!   `postgres[ql]://` URL, a `key=value` conninfo string, or a bare
//!   database name as with `psql -d`), else `DATABASE_URL`; then, option
//!   by option, `PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGDATABASE
//!   PGSSLMODE PGSSLROOTCERT PGSSLNEGOTIATION PGAPPNAME PGCONNECT_TIMEOUT
//!   PGOPTIONS PGPASSFILE PGTARGETSESSIONATTRS PGCHANNELBINDING`; then
//!   libpq's defaults (the socket folder `/var/run/postgresql` or `/tmp`,
//!   whichever has the port's socket or else exists; port 5432; the
//!   operating system user; a database named like the user). Unknown
//!   options are errors naming the option; libpq options that jobsctl does
//!   not implement (`service`, `sslcert`, `sslkey`, `gssencmode`, ...) are
//!   refused by name rather than ignored. `PGSERVICE` and the other `PG*`
//!   variables are not read.
//! - **Several hosts** (`host=a,b` or `postgres://a,b:5433/db`) are tried
//!   in order, each with its own password-file entry, TLS attempts and
//!   `connect_timeout`; the error lists what each said.
//! - **Password file** (`pgpass.rs`): libpq's format and matching; a file
//!   with group or world access is ignored with a warning, as libpq does,
//!   and a failed login then says so.
//! - **TLS** (`tls.rs`, rustls with ring): `disable`; `allow` (plain first,
//!   TLS if the server refuses); `prefer` (TLS, plain if the server has no
//!   TLS or the handshake fails); `require`; `verify-ca`; `verify-full`.
//!   Unix sockets never use TLS.
//! - **Secrets**: the password never appears in `Debug`, `describe()`,
//!   error messages or warnings.

pub mod blockers;
mod connect;
pub(crate) mod conninfo;
mod createdb;
mod error;
mod machine;
mod pgpass;
mod settings;
mod tls;

pub use createdb::{CreateOutcome, create_database};
pub use error::{DbError, describe_error};
pub use settings::{Settings, SslMode};

/// Receives every notice and warning the server sends on a connection.
pub type NoticeHandler = std::sync::Arc<dyn Fn(&postgres::error::DbError) + Send + Sync>;
