//! `--createdb`: create the target database when it does not exist yet.

use super::error::explain;
use super::{DbError, Settings};
use postgres::error::SqlState;
use std::time::{Duration, Instant};

/// What `create_database` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    AlreadyExists,
}

/// PostgreSQL's identifier limit (NAMEDATALEN - 1): a longer name would be
/// silently truncated by the server, creating a database with another name.
const MAX_NAME_BYTES: usize = 63;

/// How long to wait for a template database that another session is
/// using (SQLSTATE 55006) before giving up.
const TEMPLATE_BUSY_WAIT: Duration = Duration::from_secs(5);

/// Create `settings.database()` from a maintenance connection (database
/// `postgres`, else `template1`) with the same settings. The name is sent
/// as a quoted identifier, so any name works and none is spliced into SQL
/// unquoted. A database that exists already, or that a concurrent session
/// creates first (SQLSTATE 42P04, or 23505 on `pg_database_datname_index`),
/// is `AlreadyExists`, not an error.
pub fn create_database(settings: &Settings) -> Result<CreateOutcome, DbError> {
    let name = settings.database();
    check_name(name)?;
    let (maintenance, mut client) = maintenance_connection(settings)?;
    let exists = |client: &mut postgres::Client| -> Result<bool, DbError> {
        client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
                &[&name],
            )
            .map(|row| row.is_some())
            .map_err(|error| {
                query_error(
                    &maintenance,
                    format!("looking up database \"{name}\""),
                    error,
                )
            })
    };
    if exists(&mut client)? {
        return Ok(CreateOutcome::AlreadyExists);
    }
    let statement = format!("CREATE DATABASE {}", quote_identifier(name));
    let deadline = Instant::now() + TEMPLATE_BUSY_WAIT;
    loop {
        // One statement in its own simple query: CREATE DATABASE cannot run
        // inside a transaction block.
        match client.batch_execute(&statement) {
            Ok(()) => return Ok(CreateOutcome::Created),
            Err(error) if lost_race(&error) => return Ok(CreateOutcome::AlreadyExists),
            Err(error)
                if error.code() == Some(&SqlState::OBJECT_IN_USE) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(100));
                if exists(&mut client)? {
                    return Ok(CreateOutcome::AlreadyExists);
                }
            }
            Err(error) => {
                return Err(query_error(
                    &maintenance,
                    format!("CREATE DATABASE \"{name}\""),
                    error,
                ));
            }
        }
    }
}

/// A connection to `postgres`, or to `template1` when `postgres` does not
/// exist, with the settings it was made with.
fn maintenance_connection(settings: &Settings) -> Result<(Settings, postgres::Client), DbError> {
    let first = settings.with_database("postgres");
    match first.connect(None) {
        Ok(client) => Ok((first, client)),
        Err(e) if e.sqlstate() == Some(SqlState::INVALID_CATALOG_NAME.code()) => {
            let second = settings.with_database("template1");
            let client = second.connect(None)?;
            Ok((second, client))
        }
        Err(e) => Err(e),
    }
}

/// Another session created the database between our check and our
/// `CREATE DATABASE`.
fn lost_race(error: &postgres::Error) -> bool {
    match error.code() {
        Some(code) if *code == SqlState::DUPLICATE_DATABASE => true,
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
            error.as_db_error().is_some_and(|db| {
                db.constraint() == Some("pg_database_datname_index")
                    || db.message().contains("pg_database_datname_index")
            })
        }
        _ => false,
    }
}

fn query_error(settings: &Settings, action: String, error: postgres::Error) -> DbError {
    DbError::Query {
        action,
        target: settings.describe(),
        message: explain(&error),
        error,
    }
}

fn check_name(name: &str) -> Result<(), DbError> {
    let reason = if name.is_empty() {
        "it is empty".to_owned()
    } else if name.contains('\0') {
        "it contains a NUL character".to_owned()
    } else if name.len() > MAX_NAME_BYTES {
        format!(
            "it is {} bytes long; PostgreSQL names are at most {MAX_NAME_BYTES} bytes",
            name.len()
        )
    } else {
        return Ok(());
    };
    Err(DbError::InvalidDatabaseName {
        name: name.to_owned(),
        reason,
    })
}

/// `name` as a SQL identifier: in double quotes, inner quotes doubled.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("app"), "\"app\"");
        assert_eq!(
            quote_identifier("we\"ird; DROP DATABASE postgres; --"),
            "\"we\"\"ird; DROP DATABASE postgres; --\""
        );
        assert_eq!(quote_identifier("é \"\" x"), "\"é \"\"\"\" x\"");
    }

    #[test]
    fn names_postgres_cannot_hold_are_refused() {
        assert!(check_name("ok name ünïcode").is_ok());
        assert!(check_name(&"x".repeat(63)).is_ok());
        let long = check_name(&"x".repeat(64)).unwrap_err();
        assert!(long.to_string().contains("at most 63 bytes"), "{long}");
        assert!(long.is_configuration());
        // 32 two-byte characters are 64 bytes.
        assert!(check_name(&"é".repeat(32)).is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a\0b").unwrap_err().to_string().contains("NUL"));
    }
}
