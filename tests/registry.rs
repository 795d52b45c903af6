//! The `pgpm_migrate` registry against a real PostgreSQL: jobsctl installs
//! exactly pgpm's objects (plus its bookkeeping table), pgpm's routines work
//! on them as pgpm calls them, and jobsctl's writes follow pgpm's rules.

mod common;

use common::pg::TestDb;
use jobsctl::registry::{self, EventKind, RegistryError};
use postgres::{Client, SimpleQueryMessage};
use std::sync::Barrier;

const BOTH: [&str; 2] = ["0001_pgpm_registry", "0002_jobsctl_bookkeeping"];

fn installed(label: &str) -> (TestDb, Client) {
    let db = TestDb::new(label);
    let mut client = db.client();
    registry::install(&mut client).expect("install the registry");
    (db, client)
}

/// Every row of `sql` as its columns' text joined by ` | ` (NULL as `NULL`).
fn rows(client: &mut Client, sql: &str) -> Vec<String> {
    client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL"))
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            _ => None,
        })
        .collect()
}

fn one(client: &mut Client, sql: &str) -> String {
    let mut all = rows(client, sql);
    assert_eq!(all.len(), 1, "{sql}: {all:?}");
    all.remove(0)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The message of a failed statement.
fn server_error(result: Result<impl std::fmt::Debug, postgres::Error>) -> (String, String) {
    let error = result.expect_err("the statement must fail");
    let db = error.as_db_error().expect("a server error");
    (db.message().to_string(), db.code().code().to_string())
}

/// Record a change the way pgpm does: `CALL pgpm_migrate.deploy` with its
/// parameter casts.
fn pgpm_deploy(
    client: &mut Client,
    package: &str,
    change: &str,
    hash: &str,
    requires: Option<&[&str]>,
    sql: &str,
    log_only: bool,
) -> Result<u64, postgres::Error> {
    let requires: Option<Vec<String>> = requires.map(strings);
    client.execute(
        "CALL pgpm_migrate.deploy($1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT[], $5::TEXT, $6::BOOLEAN)",
        &[&package, &change, &hash, &requires, &sql, &log_only],
    )
}

const COLUMNS: &str = "SELECT table_name || '.' || column_name || ' ' || data_type \
       || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' || column_default, '') \
     FROM information_schema.columns WHERE table_schema = 'pgpm_migrate' ORDER BY table_name, ordinal_position";
const CONSTRAINTS: &str = "SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
     FROM pg_constraint WHERE connamespace = 'pgpm_migrate'::regnamespace \
       AND contype <> 'n' ORDER BY 1"; // PostgreSQL 18 also lists NOT NULL as constraints
const RELATIONS: &str = "SELECT relname || ' ' || relkind::text FROM pg_class \
     WHERE relnamespace = 'pgpm_migrate'::regnamespace ORDER BY 1";
// PostgreSQL 14+ writes procedure arguments as `IN name type`, 13 as `name type`.
const ROUTINES: &str = "SELECT p.prokind::text || ' ' || p.proname || '(' \
       || regexp_replace(pg_get_function_arguments(p.oid), '(^|, )IN ', '\\1', 'g') || ')' \
       || coalesce(' RETURNS ' || pg_get_function_result(p.oid), '') || ' ' || l.lanname || ' ' || p.provolatile::text \
       || CASE WHEN p.prosecdef THEN ' SECURITY DEFINER' ELSE '' END \
     FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang \
     WHERE p.pronamespace = 'pgpm_migrate'::regnamespace ORDER BY p.proname";

#[test]
fn install_on_an_empty_database_creates_exactly_pgpms_objects_and_the_bookkeeping_table() {
    let db = TestDb::new("install_empty");
    let mut client = db.client();
    let outcome = registry::install(&mut client).unwrap();
    assert_eq!(outcome.applied, strings(&BOTH));
    assert!(outcome.unknown.is_empty());

    let ts = "timestamp with time zone";
    assert_eq!(
        rows(&mut client, COLUMNS),
        [
            "changes.change_id text NOT NULL".to_string(),
            "changes.change_name text NOT NULL".into(),
            "changes.package text NOT NULL".into(),
            "changes.script_hash text NOT NULL".into(),
            format!("changes.deployed_at {ts} NOT NULL DEFAULT clock_timestamp()"),
            "dependencies.change_id text NOT NULL".into(),
            "dependencies.requires text NOT NULL".into(),
            "events.event_id integer NOT NULL DEFAULT nextval('pgpm_migrate.events_event_id_seq'::regclass)".into(),
            "events.event_type text NOT NULL".into(),
            "events.change_name text NOT NULL".into(),
            "events.package text NOT NULL".into(),
            format!("events.occurred_at {ts} NOT NULL DEFAULT clock_timestamp()"),
            "events.error_message text".into(),
            "events.error_code text".into(),
            "jobsctl_migrations.version integer NOT NULL".into(),
            "jobsctl_migrations.name text NOT NULL".into(),
            "jobsctl_migrations.checksum text NOT NULL".into(),
            format!("jobsctl_migrations.installed_at {ts} NOT NULL DEFAULT clock_timestamp()"),
            "jobsctl_migrations.installed_by text NOT NULL".into(),
            "packages.package text NOT NULL".into(),
            format!("packages.created_at {ts} NOT NULL DEFAULT clock_timestamp()"),
        ]
    );
    assert_eq!(
        rows(&mut client, CONSTRAINTS),
        [
            "pgpm_migrate.changes changes_package_change_name_key UNIQUE (package, change_name)",
            "pgpm_migrate.changes changes_package_fkey FOREIGN KEY (package) REFERENCES pgpm_migrate.packages(package)",
            "pgpm_migrate.changes changes_package_script_hash_key UNIQUE (package, script_hash)",
            "pgpm_migrate.changes changes_pkey PRIMARY KEY (change_id)",
            "pgpm_migrate.dependencies dependencies_change_id_fkey FOREIGN KEY (change_id) REFERENCES pgpm_migrate.changes(change_id) ON DELETE CASCADE",
            "pgpm_migrate.dependencies dependencies_pkey PRIMARY KEY (change_id, requires)",
            "pgpm_migrate.events events_event_type_check CHECK ((event_type = ANY (ARRAY['deploy'::text, 'revert'::text, 'verify'::text])))",
            "pgpm_migrate.events events_pkey PRIMARY KEY (event_id)",
            "pgpm_migrate.jobsctl_migrations jobsctl_migrations_pkey PRIMARY KEY (version)",
            "pgpm_migrate.packages packages_pkey PRIMARY KEY (package)",
        ]
    );
    assert_eq!(
        rows(&mut client, RELATIONS),
        [
            "changes r",
            "changes_package_change_name_key i",
            "changes_package_script_hash_key i",
            "changes_pkey i",
            "dependencies r",
            "dependencies_pkey i",
            "events r",
            "events_event_id_seq S",
            "events_pkey i",
            "jobsctl_migrations r",
            "jobsctl_migrations_pkey i",
            "packages r",
            "packages_pkey i",
        ]
    );
    assert_eq!(
        rows(&mut client, ROUTINES),
        [
            "p deploy(p_package text, p_change_name text, p_script_hash text, p_requires text[], p_deploy_sql text, p_log_only boolean DEFAULT false) plpgsql v",
            "f deployed_changes(p_package text DEFAULT NULL::text) RETURNS TABLE(package text, change_name text, deployed_at timestamp with time zone) sql s",
            "f get_dependents(p_package text, p_change_name text) RETURNS TABLE(package text, change_name text, dependency text) sql s",
            "f is_deployed(p_package text, p_change_name text) RETURNS boolean plpgsql s",
            "p register_package(p_package text) plpgsql v",
            "p revert(p_package text, p_change_name text, p_revert_sql text) plpgsql v",
            "f status(p_package text DEFAULT NULL::text) RETURNS TABLE(package text, total_deployed integer, last_change text, last_deployed timestamp with time zone) sql s",
            "f verify(p_package text, p_change_name text, p_verify_sql text) RETURNS boolean plpgsql v",
        ]
    );
    let identity = "SELECT proname || '(' \
                    || regexp_replace(pg_get_function_identity_arguments(oid), '(^|, )IN ', '\\1', 'g') || ')' FROM pg_proc \
                    WHERE pronamespace = 'pgpm_migrate'::regnamespace ORDER BY 1";
    assert_eq!(
        rows(&mut client, identity),
        [
            "deploy(p_package text, p_change_name text, p_script_hash text, p_requires text[], p_deploy_sql text, p_log_only boolean)",
            "deployed_changes(p_package text)",
            "get_dependents(p_package text, p_change_name text)",
            "is_deployed(p_package text, p_change_name text)",
            "register_package(p_package text)",
            "revert(p_package text, p_change_name text, p_revert_sql text)",
            "status(p_package text)",
            "verify(p_package text, p_change_name text, p_verify_sql text)",
        ]
    );

    let recorded = rows(
        &mut client,
        "SELECT version, name, checksum, installed_by FROM pgpm_migrate.jobsctl_migrations ORDER BY 1",
    );
    let expected: Vec<String> = registry::MIGRATIONS
        .iter()
        .map(|m| {
            format!(
                "{} | {} | {} | jobsctl {}",
                m.version,
                m.name,
                m.checksum(),
                env!("CARGO_PKG_VERSION")
            )
        })
        .collect();
    assert_eq!(recorded, expected);
    assert!(registry::exists(&mut client).unwrap());
    assert!(
        registry::pending_migrations(&mut client)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_second_install_is_a_noop() {
    let (_db, mut client) = installed("second_install");
    let before = rows(
        &mut client,
        "SELECT version, installed_at FROM pgpm_migrate.jobsctl_migrations ORDER BY 1",
    );
    let outcome = registry::install(&mut client).unwrap();
    assert!(outcome.applied.is_empty(), "{outcome:?}");
    assert!(outcome.unknown.is_empty());
    assert_eq!(
        rows(
            &mut client,
            "SELECT version, installed_at FROM pgpm_migrate.jobsctl_migrations ORDER BY 1"
        ),
        before
    );
}

/// A database that pgpm set up: its schema.sql and procedures.sql (our 0001
/// creates the same objects), then deploys, and no bookkeeping table.
fn pgpm_made_registry(client: &mut Client) {
    client.batch_execute(registry::MIGRATIONS[0].sql).unwrap();
    pgpm_deploy(
        client,
        "pkg",
        "one",
        "h1",
        None,
        "CREATE TABLE one_table ()",
        false,
    )
    .unwrap();
    pgpm_deploy(client, "pkg", "two", "h2", Some(&["pkg:one"]), "", true).unwrap();
}

#[test]
fn install_on_a_registry_pgpm_created_adds_the_bookkeeping_and_keeps_rows_and_routines() {
    let db = TestDb::new("install_on_pgpm");
    let mut client = db.client();
    pgpm_made_registry(&mut client);
    // pgpm's own definition of a routine (its text differs from ours) must survive.
    client
        .batch_execute(
            "CREATE OR REPLACE FUNCTION pgpm_migrate.verify(p_package text, p_change_name text, p_verify_sql text) \
             RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN /* pgpm's own */ EXECUTE p_verify_sql; RETURN TRUE; \
             EXCEPTION WHEN OTHERS THEN RETURN FALSE; END; $$",
        )
        .unwrap();
    let changes_before = rows(
        &mut client,
        "SELECT * FROM pgpm_migrate.changes ORDER BY change_id",
    );
    let events_before = rows(
        &mut client,
        "SELECT * FROM pgpm_migrate.events ORDER BY event_id",
    );
    assert!(registry::exists(&mut client).unwrap());
    assert_eq!(registry::pending_migrations(&mut client).unwrap(), BOTH);

    let outcome = registry::install(&mut client).unwrap();
    assert_eq!(outcome.applied, strings(&BOTH));
    assert_eq!(
        rows(
            &mut client,
            "SELECT * FROM pgpm_migrate.changes ORDER BY change_id"
        ),
        changes_before
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT * FROM pgpm_migrate.events ORDER BY event_id"
        ),
        events_before
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT requires FROM pgpm_migrate.dependencies"
        ),
        ["pkg:one"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT version FROM pgpm_migrate.jobsctl_migrations ORDER BY 1"
        ),
        ["1", "2"]
    );
    let body = one(
        &mut client,
        "SELECT prosrc FROM pg_proc WHERE oid = 'pgpm_migrate.verify(text,text,text)'::regprocedure",
    );
    assert!(body.contains("pgpm's own"), "{body}");
    assert!(registry::install(&mut client).unwrap().applied.is_empty());
}

#[test]
fn install_works_for_a_role_that_does_not_own_pgpms_objects() {
    let db = TestDb::new("install_not_owner");
    let mut client = db.client();
    pgpm_made_registry(&mut client);
    let role = format!("{}_deployer", db.name);
    client
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\"; GRANT USAGE, CREATE ON SCHEMA pgpm_migrate TO \"{role}\"; SET ROLE \"{role}\""
        ))
        .unwrap();
    // CREATE OR REPLACE of pgpm's routines would fail here: the role owns none of them.
    let outcome = registry::install(&mut client).unwrap();
    assert_eq!(outcome.applied, strings(&BOTH));
    assert_eq!(
        one(
            &mut client,
            "SELECT tableowner FROM pg_tables WHERE tablename = 'jobsctl_migrations'"
        ),
        role
    );
}

#[test]
fn install_reports_migrations_recorded_by_a_newer_jobsctl() {
    let (_db, mut client) = installed("install_newer");
    client
        .batch_execute(
            "INSERT INTO pgpm_migrate.jobsctl_migrations (version, name, checksum, installed_by) \
             VALUES (999, '0999_from_the_future', 'x', 'jobsctl 99')",
        )
        .unwrap();
    let outcome = registry::install(&mut client).unwrap();
    assert!(outcome.applied.is_empty());
    assert_eq!(outcome.unknown, ["0999_from_the_future"]);
}

#[test]
fn concurrent_installs_on_an_empty_database_create_the_registry_once() {
    let db = TestDb::new("install_concurrent");
    let start = Barrier::new(8);
    let outcomes: Vec<registry::InstallOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut client = db.client();
                    start.wait();
                    registry::install(&mut client).expect("every concurrent install succeeds")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ran: Vec<_> = outcomes.iter().filter(|o| !o.applied.is_empty()).collect();
    assert_eq!(ran.len(), 1, "{outcomes:?}");
    assert_eq!(ran[0].applied, strings(&BOTH));
    let mut client = db.client();
    assert_eq!(
        rows(
            &mut client,
            "SELECT version FROM pgpm_migrate.jobsctl_migrations ORDER BY 1"
        ),
        ["1", "2"]
    );
    assert_eq!(rows(&mut client, RELATIONS).len(), 13);
    assert_eq!(rows(&mut client, ROUTINES).len(), 8);
}

#[test]
fn read_only_calls_do_not_create_the_registry() {
    let db = TestDb::new("read_only");
    let mut client = db.client();
    assert!(!registry::exists(&mut client).unwrap());
    assert!(
        registry::deployed_changes(&mut client, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        registry::deployed_changes(&mut client, Some("pkg"))
            .unwrap()
            .is_empty()
    );
    assert!(registry::events(&mut client, None, 10).unwrap().is_empty());
    assert_eq!(registry::pending_migrations(&mut client).unwrap(), BOTH);
    assert!(!registry::has_legacy_registry(&mut client).unwrap());
    assert_eq!(
        one(
            &mut client,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgpm_migrate'"
        ),
        "0"
    );
}

#[test]
fn the_old_launchql_migrate_schema_is_detected_and_left_alone() {
    let db = TestDb::new("legacy");
    let mut client = db.client();
    client.batch_execute("CREATE SCHEMA launchql_migrate; CREATE TABLE launchql_migrate.changes (change_name text)").unwrap();
    assert!(registry::has_legacy_registry(&mut client).unwrap());
    assert!(!registry::exists(&mut client).unwrap());
    registry::install(&mut client).unwrap();
    assert_eq!(
        one(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'launchql_migrate'::regnamespace"
        ),
        "1"
    );
}

// pgpm's routines on a jobsctl-installed registry, called as pgpm calls them.

#[test]
fn pgpm_deploy_procedure_runs_the_script_or_only_logs_it() {
    let (_db, mut client) = installed("pgpm_deploy");
    pgpm_deploy(
        &mut client,
        "pkg",
        "schema",
        "h1",
        None,
        "CREATE SCHEMA app",
        false,
    )
    .unwrap();
    pgpm_deploy(
        &mut client,
        "pkg",
        "table",
        "h2",
        Some(&["pkg:schema"]),
        "CREATE TABLE app.never ()",
        true,
    )
    .unwrap();
    assert_eq!(
        one(
            &mut client,
            "SELECT to_regnamespace('app') IS NOT NULL, to_regclass('app.never') IS NULL"
        ),
        "t | t"
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT package, change_name, script_hash, change_id = encode(sha256((package || change_name || script_hash)::bytea), 'hex') FROM pgpm_migrate.changes ORDER BY deployed_at"
        ),
        ["pkg | schema | h1 | t", "pkg | table | h2 | t"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT requires FROM pgpm_migrate.dependencies"
        ),
        ["pkg:schema"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT event_type, change_name FROM pgpm_migrate.events ORDER BY event_id"
        ),
        ["deploy | schema", "deploy | table"]
    );
    // Again with the same hash: skipped silently; with another: refused.
    pgpm_deploy(
        &mut client,
        "pkg",
        "table",
        "h2",
        Some(&["pkg:schema"]),
        "",
        true,
    )
    .unwrap();
    let (message, code) = server_error(pgpm_deploy(
        &mut client,
        "pkg",
        "table",
        "hX",
        None,
        "",
        true,
    ));
    assert_eq!(
        (message.as_str(), code.as_str()),
        (
            "Change table already deployed in package pkg with different content",
            "P0001"
        )
    );
    let (message, _) = server_error(pgpm_deploy(
        &mut client,
        "pkg",
        "view",
        "h3",
        Some(&["pkg:table", "pkg:nope", "other:x"]),
        "",
        true,
    ));
    assert_eq!(
        message,
        "Missing required changes for view: pkg:nope, other:x"
    );
}

#[test]
fn pgpm_is_deployed_takes_a_package_prefix_over_the_package_argument() {
    let (_db, mut client) = installed("pgpm_is_deployed");
    pgpm_deploy(&mut client, "pkg", "change", "h1", None, "", true).unwrap();
    assert_eq!(
        one(
            &mut client,
            "SELECT pgpm_migrate.is_deployed('pkg', 'change'), pgpm_migrate.is_deployed('other', 'pkg:change'), \
                    pgpm_migrate.is_deployed('pkg', 'other:change'), pgpm_migrate.is_deployed('pkg', 'nope')"
        ),
        "t | t | f | f"
    );
}

#[test]
fn pgpm_listing_functions_report_what_is_deployed() {
    let (_db, mut client) = installed("pgpm_listing");
    pgpm_deploy(&mut client, "pkg", "schema", "h1", None, "", true).unwrap();
    pgpm_deploy(
        &mut client,
        "pkg",
        "table",
        "h2",
        Some(&["pkg:schema"]),
        "",
        true,
    )
    .unwrap();
    pgpm_deploy(
        &mut client,
        "other",
        "x",
        "h3",
        Some(&["pkg:table"]),
        "",
        true,
    )
    .unwrap();
    assert_eq!(
        rows(
            &mut client,
            "SELECT package, change_name FROM pgpm_migrate.deployed_changes()"
        ),
        ["pkg | schema", "pkg | table", "other | x"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT package, change_name FROM pgpm_migrate.deployed_changes('other')"
        ),
        ["other | x"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT package, total_deployed, last_change, last_deployed = (SELECT max(deployed_at) FROM pgpm_migrate.changes c WHERE c.package = s.package) FROM pgpm_migrate.status() s ORDER BY 1"
        ),
        ["other | 1 | x | t", "pkg | 2 | table | t"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT package, total_deployed, last_change FROM pgpm_migrate.status('pkg')"
        ),
        ["pkg | 2 | table"]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT * FROM pgpm_migrate.get_dependents('pkg', 'table')"
        ),
        ["other | x | pkg:table"]
    );
    assert!(
        rows(
            &mut client,
            "SELECT * FROM pgpm_migrate.get_dependents('other', 'x')"
        )
        .is_empty()
    );
    assert_eq!(
        one(
            &mut client,
            "SELECT pgpm_migrate.verify('pkg', 'schema', 'SELECT 1'), pgpm_migrate.verify('pkg', 'schema', 'SELECT 1/0')"
        ),
        "t | f"
    );
}

#[test]
fn pgpm_revert_procedure_refuses_a_required_change_and_reverts_a_free_one() {
    let (_db, mut client) = installed("pgpm_revert");
    pgpm_deploy(
        &mut client,
        "pkg",
        "schema",
        "h1",
        None,
        "CREATE SCHEMA app",
        false,
    )
    .unwrap();
    pgpm_deploy(
        &mut client,
        "other",
        "x",
        "h2",
        Some(&["pkg:schema"]),
        "",
        true,
    )
    .unwrap();
    let revert = |client: &mut Client, package: &str, change: &str, sql: &str| {
        client.execute(
            "CALL pgpm_migrate.revert($1, $2, $3)",
            &[&package, &change, &sql],
        )
    };
    let (message, code) = server_error(revert(&mut client, "pkg", "schema", "DROP SCHEMA app"));
    assert_eq!(
        (message.as_str(), code.as_str()),
        ("Cannot revert schema: required by other:x", "P0001")
    );
    let (message, _) = server_error(revert(&mut client, "pkg", "nope", ""));
    assert_eq!(message, "Change nope not deployed in package pkg");
    revert(&mut client, "other", "x", "").unwrap();
    revert(&mut client, "pkg", "schema", "DROP SCHEMA app").unwrap();
    assert_eq!(
        one(
            &mut client,
            "SELECT to_regnamespace('app') IS NULL, (SELECT count(*) FROM pgpm_migrate.changes), (SELECT count(*) FROM pgpm_migrate.dependencies)"
        ),
        "t | 0 | 0"
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT event_type, package, change_name FROM pgpm_migrate.events ORDER BY event_id"
        ),
        [
            "deploy | pkg | schema",
            "deploy | other | x",
            "revert | other | x",
            "revert | pkg | schema"
        ]
    );
}

// jobsctl's own writes.

#[test]
fn record_deploy_is_read_back_with_pgpms_change_id_and_qualified_requires() {
    let (_db, mut client) = installed("record_deploy");
    let mut tx = client.transaction().unwrap();
    registry::record_deploy(&mut tx, "pkg", "schema", "aaa", &[]).unwrap();
    registry::record_deploy(&mut tx, "pkg", "table", "bbb", &strings(&["schema"])).unwrap();
    registry::record_deploy(
        &mut tx,
        "other",
        "x",
        "ccc",
        &strings(&["pkg:table", "pkg:schema", "pkg:table"]),
    )
    .unwrap();
    tx.commit().unwrap();

    let deployed = registry::deployed_changes(&mut client, None).unwrap();
    let summary: Vec<(&str, &str, &str, Vec<String>)> = deployed
        .iter()
        .map(|d| {
            (
                d.package.as_str(),
                d.change_name.as_str(),
                d.script_hash.as_str(),
                d.requires.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("pkg", "schema", "aaa", vec![]),
            ("pkg", "table", "bbb", strings(&["pkg:schema"])),
            ("other", "x", "ccc", strings(&["pkg:schema", "pkg:table"])),
        ]
    );
    for change in &deployed {
        assert_eq!(
            change.change_id,
            registry::change_id(&change.package, &change.change_name, &change.script_hash)
        );
        let server = one(
            &mut client,
            &format!(
                "SELECT encode(sha256('{}{}{}'::bytea), 'hex')",
                change.package, change.change_name, change.script_hash
            ),
        );
        assert_eq!(change.change_id, server);
        let at = &change.deployed_at;
        assert!(
            at.len() == 27 && at.ends_with('Z') && &at[10..11] == "T" && &at[19..20] == ".",
            "{at}"
        );
    }
    assert!(
        deployed
            .windows(2)
            .all(|w| w[0].deployed_at <= w[1].deployed_at)
    );
    assert_eq!(
        registry::deployed_changes(&mut client, Some("other")).unwrap(),
        deployed[2..]
    );
    assert_eq!(
        rows(
            &mut client,
            "SELECT event_type, package, change_name, error_message FROM pgpm_migrate.events ORDER BY event_id"
        ),
        [
            "deploy | pkg | schema | NULL",
            "deploy | pkg | table | NULL",
            "deploy | other | x | NULL"
        ]
    );
    // pgpm sees them.
    assert_eq!(
        one(
            &mut client,
            "SELECT pgpm_migrate.is_deployed('pkg', 'table'), pgpm_migrate.is_deployed('pkg', 'other:x')"
        ),
        "t | t"
    );
}

#[test]
fn record_deploy_again_with_the_same_hash_is_a_noop() {
    let (_db, mut client) = installed("record_same_hash");
    registry::record_deploy(&mut client, "pkg", "schema", "aaa", &[]).unwrap();
    let before = rows(
        &mut client,
        "SELECT (SELECT count(*) FROM pgpm_migrate.changes), (SELECT count(*) FROM pgpm_migrate.events), (SELECT deployed_at FROM pgpm_migrate.changes)",
    );
    registry::record_deploy(&mut client, "pkg", "schema", "aaa", &[]).unwrap();
    let after = rows(
        &mut client,
        "SELECT (SELECT count(*) FROM pgpm_migrate.changes), (SELECT count(*) FROM pgpm_migrate.events), (SELECT deployed_at FROM pgpm_migrate.changes)",
    );
    assert_eq!(before, after);
}

#[test]
fn record_deploy_with_a_different_hash_is_refused_as_pgpm_refuses_it() {
    let (_db, mut client) = installed("record_different_hash");
    registry::record_deploy(&mut client, "pkg", "schema", "aaa", &[]).unwrap();
    let mut tx = client.transaction().unwrap();
    let error = registry::record_deploy(&mut tx, "pkg", "schema", "bbb", &[]).unwrap_err();
    match &error {
        RegistryError::DifferentContent {
            deployed_hash,
            script_hash,
            ..
        } => assert_eq!(
            (deployed_hash.as_str(), script_hash.as_str()),
            ("aaa", "bbb")
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(error.sqlstate(), Some("P0001"));
    // The caller's transaction is still usable.
    assert_eq!(
        tx.query_one("SELECT count(*) FROM pgpm_migrate.changes", &[])
            .unwrap()
            .get::<_, i64>(0),
        1
    );
    tx.rollback().unwrap();
    let (pgpm_message, _) = server_error(pgpm_deploy(
        &mut client,
        "pkg",
        "schema",
        "bbb",
        None,
        "",
        true,
    ));
    assert_eq!(error.to_string(), pgpm_message);
}

#[test]
fn record_deploy_with_a_missing_requirement_is_refused_with_pgpms_message() {
    let (_db, mut client) = installed("record_missing");
    registry::record_deploy(&mut client, "pkg", "schema", "aaa", &[]).unwrap();
    let requires = strings(&["schema", "nope", "other:base"]);
    let error = registry::record_deploy(&mut client, "pkg", "table", "bbb", &requires).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Missing required changes for table: pkg:nope, other:base"
    );
    match &error {
        RegistryError::MissingRequirements { missing, .. } => {
            assert_eq!(missing, &strings(&["pkg:nope", "other:base"]))
        }
        other => panic!("{other:?}"),
    }
    let (pgpm_message, _) = server_error(pgpm_deploy(
        &mut client,
        "pkg",
        "table",
        "bbb",
        Some(&["pkg:schema", "pkg:nope", "other:base"]),
        "",
        true,
    ));
    assert_eq!(error.to_string(), pgpm_message);
    assert_eq!(
        one(&mut client, "SELECT count(*) FROM pgpm_migrate.changes"),
        "1"
    );
}

#[test]
fn record_deploy_of_a_script_identical_to_another_changes_is_refused_clearly() {
    let (_db, mut client) = installed("record_same_script");
    registry::record_deploy(&mut client, "pkg", "one", "samehash", &[]).unwrap();
    let error = registry::record_deploy(&mut client, "pkg", "two", "samehash", &[]).unwrap_err();
    assert!(
        matches!(&error, RegistryError::SameScript { other, .. } if other == "one"),
        "{error:?}"
    );
    assert_eq!(error.sqlstate(), Some("23505"));
    // The same script in another package is fine.
    registry::record_deploy(&mut client, "other", "one", "samehash", &[]).unwrap();
}

#[test]
fn record_revert_refuses_while_dependents_require_it_by_either_form() {
    let (_db, mut client) = installed("record_revert");
    registry::record_deploy(&mut client, "pkg", "base", "h1", &[]).unwrap();
    // pgpm stores what it is given: a bare local name here.
    pgpm_deploy(&mut client, "pkg", "local", "h2", Some(&["base"]), "", true).unwrap();
    registry::record_deploy(&mut client, "other", "x", "h3", &strings(&["pkg:base"])).unwrap();

    assert_eq!(
        registry::dependents(&mut client, "pkg", "base").unwrap(),
        ["other:x", "pkg:local"]
    );
    let error = registry::record_revert(&mut client, "pkg", "base").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Cannot revert base: required by other:x, local"
    );
    match &error {
        RegistryError::RequiredBy { dependents, .. } => {
            assert_eq!(dependents, &strings(&["other:x", "pkg:local"]))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.sqlstate(), Some("P0001"));
    let (pgpm_message, _) =
        server_error(client.execute("CALL pgpm_migrate.revert('pkg', 'base', '')", &[]));
    assert_eq!(error.to_string(), pgpm_message);

    registry::record_revert(&mut client, "other", "x").unwrap();
    assert_eq!(
        registry::record_revert(&mut client, "pkg", "base")
            .unwrap_err()
            .to_string(),
        "Cannot revert base: required by local"
    );
    registry::record_revert(&mut client, "pkg", "local").unwrap();
    assert!(
        registry::dependents(&mut client, "pkg", "base")
            .unwrap()
            .is_empty()
    );
    let mut tx = client.transaction().unwrap();
    registry::record_revert(&mut tx, "pkg", "base").unwrap();
    tx.commit().unwrap();

    assert!(
        registry::deployed_changes(&mut client, None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        one(
            &mut client,
            "SELECT count(*) FROM pgpm_migrate.dependencies"
        ),
        "0"
    );
    let reverts: Vec<String> = registry::events(&mut client, None, 3)
        .unwrap()
        .iter()
        .map(|e| format!("{:?} {}:{}", e.event_type, e.package, e.change_name))
        .collect();
    assert_eq!(
        reverts,
        ["Revert pkg:base", "Revert pkg:local", "Revert other:x"]
    );
}

#[test]
fn record_revert_of_a_change_not_deployed_is_refused() {
    let (_db, mut client) = installed("record_revert_missing");
    let error = registry::record_revert(&mut client, "pkg", "nope").unwrap_err();
    assert!(
        matches!(error, RegistryError::NotDeployed { .. }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "Change nope not deployed in package pkg");
}

#[test]
fn a_failure_event_written_after_the_rollback_survives_it() {
    let (_db, mut client) = installed("failure_event");
    let mut tx = client.transaction().unwrap();
    registry::record_deploy(&mut tx, "pkg", "broken", "h1", &[]).unwrap();
    let failure = tx.batch_execute("SELECT 1/0").unwrap_err();
    let db_error = failure.as_db_error().unwrap();
    let (message, code) = (
        db_error.message().to_string(),
        db_error.code().code().to_string(),
    );
    tx.rollback().unwrap();
    registry::record_event(
        &mut client,
        EventKind::Deploy,
        "pkg",
        "broken",
        Some((&message, &code)),
    )
    .unwrap();

    assert!(
        registry::deployed_changes(&mut client, None)
            .unwrap()
            .is_empty()
    );
    let events = registry::events(&mut client, None, 10).unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        (
            event.event_type,
            event.package.as_str(),
            event.change_name.as_str()
        ),
        (EventKind::Deploy, "pkg", "broken")
    );
    assert_eq!(
        (event.error_message.as_deref(), event.error_code.as_deref()),
        (Some("division by zero"), Some("22012"))
    );
    assert!(event.occurred_at.ends_with('Z'), "{}", event.occurred_at);
}

#[test]
fn events_are_listed_newest_first_by_package_and_limited() {
    let (_db, mut client) = installed("events_order");
    registry::record_deploy(&mut client, "pkg", "one", "h1", &[]).unwrap();
    registry::record_event(&mut client, EventKind::Verify, "pkg", "one", None).unwrap();
    registry::record_deploy(&mut client, "other", "x", "h2", &[]).unwrap();
    registry::record_event(
        &mut client,
        EventKind::Verify,
        "other",
        "x",
        Some(("Verification failed for x", "VERIFICATION_FAILED")),
    )
    .unwrap();

    let all = registry::events(&mut client, None, 10).unwrap();
    let listed: Vec<String> = all
        .iter()
        .map(|e| {
            format!(
                "{} {:?} {}:{}",
                e.event_id, e.event_type, e.package, e.change_name
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            "4 Verify other:x",
            "3 Deploy other:x",
            "2 Verify pkg:one",
            "1 Deploy pkg:one"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].occurred_at >= w[1].occurred_at));
    assert_eq!(all[0].error_code.as_deref(), Some("VERIFICATION_FAILED"));
    let pkg: Vec<i32> = registry::events(&mut client, Some("pkg"), 10)
        .unwrap()
        .iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(pkg, [2, 1]);
    let newest: Vec<i32> = registry::events(&mut client, None, 1)
        .unwrap()
        .iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(newest, [4]);
    assert!(registry::events(&mut client, None, 0).unwrap().is_empty());
    assert_eq!(
        serde_json::to_value(&all[0]).unwrap()["event_type"],
        "verify"
    );
}
