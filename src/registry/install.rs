//! Creating and upgrading the registry: the embedded migrations in
//! `migrations/`, run in version order, each in its own transaction under a
//! transaction-level advisory lock, and recorded in
//! `pgpm_migrate.jobsctl_migrations` in that same transaction.
//!
//! Bootstrap: while the bookkeeping table does not exist (an empty database,
//! or a registry that pgpm made), one transaction runs every migration up to
//! the one that creates it, so that they are recorded together with what they
//! did. After that, one migration per transaction.

use super::{BOOKKEEPING_TABLE, LEGACY_SCHEMA, RegistryError, SCHEMA, sha256_hex};
use postgres::{Client, GenericClient, IsolationLevel};
use serde::Serialize;

/// One versioned SQL file of `migrations/`, embedded in the binary.
#[derive(Debug)]
pub struct Migration {
    pub version: i32,
    /// The file name without `.sql`, e.g. `0001_pgpm_registry`.
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the file, recorded with it.
    pub fn checksum(&self) -> String {
        sha256_hex(self.sql.as_bytes())
    }
}

/// Every migration, in the order they run. Append only (migrations/README.md).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_pgpm_registry",
        sql: include_str!("../../migrations/0001_pgpm_registry.sql"),
    },
    Migration {
        version: 2,
        name: "0002_jobsctl_bookkeeping",
        sql: include_str!("../../migrations/0002_jobsctl_bookkeeping.sql"),
    },
];

/// The migration that creates `pgpm_migrate.jobsctl_migrations`.
const BOOKKEEPING_VERSION: i32 = 2;

/// The transaction-level advisory lock every migration transaction takes:
/// "jobsreg\0" as a big-endian integer (the deploy lock is "jobsctl\0").
pub const INSTALL_LOCK_KEY: i64 = 0x6A6F_6273_7265_6700;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstallOutcome {
    /// Migrations run now, in order (empty: the registry was up to date).
    pub applied: Vec<String>,
    /// Migrations recorded in the database that this jobsctl does not know:
    /// a newer jobsctl upgraded the registry. Nothing is done about them.
    pub unknown: Vec<String>,
}

/// True when the `pgpm_migrate` schema exists: pgpm's own test (it creates
/// the registry only when the schema is missing). Read-only.
pub fn exists(client: &mut impl GenericClient) -> Result<bool, RegistryError> {
    schema_exists(client, SCHEMA)
}

/// True when the database has the `launchql_migrate` schema that pgpm
/// (then LaunchQL) used before late 2025. pgpm 7.x ignores it, and so does
/// jobsctl; see docs/registry.md. Read-only.
pub fn has_legacy_registry(client: &mut impl GenericClient) -> Result<bool, RegistryError> {
    schema_exists(client, LEGACY_SCHEMA)
}

/// The migrations `install` would run, by name, without changing anything.
pub fn pending_migrations(
    client: &mut impl GenericClient,
) -> Result<Vec<&'static str>, RegistryError> {
    let recorded = recorded(client)?.unwrap_or_default();
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !recorded.iter().any(|(version, _)| *version == m.version))
        .map(|m| m.name)
        .collect())
}

/// Create or upgrade the registry; see the module documentation. Safe on an
/// empty database, on a registry that pgpm created (its objects and rows are
/// kept as they are), and on one jobsctl already set up (a no-op), and when
/// several jobsctl run it at once.
pub fn install(client: &mut Client) -> Result<InstallOutcome, RegistryError> {
    let mut applied = Vec::new();
    loop {
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(RegistryError::query(
                "starting a registry migration transaction",
            ))?;
        tx.batch_execute("SET LOCAL search_path = pg_catalog, pg_temp")
            .map_err(RegistryError::query(
                "preparing a registry migration transaction",
            ))?;
        tx.execute(
            "SELECT pg_catalog.pg_advisory_xact_lock($1)",
            &[&INSTALL_LOCK_KEY],
        )
        .map_err(RegistryError::query("taking the registry migration lock"))?;
        // Read after the lock: each statement of a READ COMMITTED transaction
        // sees what an installer that held the lock before us committed.
        let recorded = recorded(&mut tx)?;
        let batch = next_batch(recorded.as_deref());
        if batch.is_empty() {
            tx.commit().map_err(RegistryError::query(
                "ending the registry migration transaction",
            ))?;
            let unknown = recorded
                .unwrap_or_default()
                .into_iter()
                .filter(|(version, _)| !MIGRATIONS.iter().any(|m| m.version == *version))
                .map(|(_, name)| name)
                .collect();
            return Ok(InstallOutcome { applied, unknown });
        }
        for migration in &batch {
            tx.batch_execute(migration.sql)
                .map_err(|source| RegistryError::Migration {
                    name: migration.name,
                    source,
                })?;
        }
        let installed_by = concat!("jobsctl ", env!("CARGO_PKG_VERSION"));
        for migration in &batch {
            tx.execute(
                "INSERT INTO pgpm_migrate.jobsctl_migrations (version, name, checksum, installed_by) \
                 VALUES ($1, $2, $3, $4)",
                &[&migration.version, &migration.name, &migration.checksum(), &installed_by],
            )
            .map_err(|source| RegistryError::Migration { name: migration.name, source })?;
        }
        tx.commit().map_err(|source| RegistryError::Migration {
            name: batch[batch.len() - 1].name,
            source,
        })?;
        applied.extend(batch.iter().map(|m| m.name.to_string()));
    }
}

/// What the next migration transaction runs: everything up to the
/// bookkeeping migration when nothing is recorded yet, else the first
/// migration not recorded (none: up to date).
fn next_batch(recorded: Option<&[(i32, String)]>) -> Vec<&'static Migration> {
    match recorded {
        None => MIGRATIONS
            .iter()
            .filter(|m| m.version <= BOOKKEEPING_VERSION)
            .collect(),
        Some(recorded) => MIGRATIONS
            .iter()
            .find(|m| !recorded.iter().any(|(version, _)| *version == m.version))
            .into_iter()
            .collect(),
    }
}

/// The recorded migrations (version, name), or `None` when the bookkeeping
/// table does not exist. The catalog is read with a query (the statement's
/// snapshot), not `to_regclass`, whose cache may predate a concurrent
/// installer's commit.
fn recorded(client: &mut impl GenericClient) -> Result<Option<Vec<(i32, String)>>, RegistryError> {
    if !relation_exists(client, BOOKKEEPING_TABLE)? {
        return Ok(None);
    }
    let rows = client
        .query(
            "SELECT version, name FROM pgpm_migrate.jobsctl_migrations ORDER BY version",
            &[],
        )
        .map_err(RegistryError::query(
            "reading the registry's migration record",
        ))?;
    Ok(Some(
        rows.iter().map(|row| (row.get(0), row.get(1))).collect(),
    ))
}

fn schema_exists(client: &mut impl GenericClient, schema: &str) -> Result<bool, RegistryError> {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .map(|row| row.get(0))
        .map_err(RegistryError::query(format!(
            "checking for the {schema} schema"
        )))
}

/// Whether `pgpm_migrate.<table>` exists.
pub(super) fn relation_exists(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<bool, RegistryError> {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2)",
            &[&SCHEMA, &table],
        )
        .map(|row| row.get(0))
        .map_err(RegistryError::query(format!(
            "checking for {SCHEMA}.{table}"
        )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn migrations_are_numbered_in_order_and_named_by_their_number() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i as i32 + 1, "{}", migration.name);
            assert!(
                migration
                    .name
                    .starts_with(&format!("{:04}_", migration.version)),
                "{}",
                migration.name
            );
        }
        assert!(MIGRATIONS.iter().any(|m| m.version == BOOKKEEPING_VERSION));
    }

    #[test]
    fn every_file_in_the_migrations_folder_is_listed_with_its_content() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.name))
            .collect();
        assert_eq!(files, listed);
        for migration in MIGRATIONS {
            let on_disk =
                std::fs::read_to_string(folder.join(format!("{}.sql", migration.name))).unwrap();
            assert_eq!(on_disk, migration.sql, "{}", migration.name);
        }
    }

    #[test]
    fn migrations_leave_transaction_control_to_the_installer() {
        for migration in MIGRATIONS {
            for line in migration
                .sql
                .lines()
                .map(str::trim)
                .filter(|l| !l.starts_with("--"))
            {
                let upper = line.to_ascii_uppercase();
                let control = ["BEGIN;", "COMMIT", "ROLLBACK", "START TRANSACTION"];
                assert!(
                    !control.iter().any(|w| upper.starts_with(w)),
                    "{}: {line}",
                    migration.name
                );
                assert!(
                    !upper.contains("CONCURRENTLY"),
                    "{}: {line}",
                    migration.name
                );
            }
        }
    }

    #[test]
    fn the_pgpm_migration_creates_only_pgpm_objects() {
        let pgpm = &MIGRATIONS[0];
        assert!(
            !pgpm.sql.contains("jobsctl_"),
            "0001 must be pgpm's registry only"
        );
        for object in [
            "pgpm_migrate.packages",
            "pgpm_migrate.changes",
            "pgpm_migrate.dependencies",
            "pgpm_migrate.events",
            "PROCEDURE pgpm_migrate.register_package",
            "FUNCTION pgpm_migrate.is_deployed",
            "PROCEDURE pgpm_migrate.deploy",
            "PROCEDURE pgpm_migrate.revert",
            "FUNCTION pgpm_migrate.verify",
            "FUNCTION pgpm_migrate.deployed_changes",
            "FUNCTION pgpm_migrate.get_dependents",
            "FUNCTION pgpm_migrate.status",
        ] {
            assert!(pgpm.sql.contains(object), "{object}");
        }
    }

    #[test]
    fn bootstrap_runs_up_to_the_bookkeeping_migration_then_one_at_a_time() {
        let names = |batch: Vec<&Migration>| batch.iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(
            names(next_batch(None)),
            ["0001_pgpm_registry", "0002_jobsctl_bookkeeping"]
        );
        let all: Vec<(i32, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.name.to_string()))
            .collect();
        assert!(next_batch(Some(&all)).is_empty());
        let mut with_newer = all.clone();
        with_newer.push((999, "0999_from_the_future".into()));
        assert!(next_batch(Some(&with_newer)).is_empty());
        assert_eq!(
            names(next_batch(Some(&all[..1]))),
            ["0002_jobsctl_bookkeeping"]
        );
    }
}
