//! `deploy`, `revert`, `verify`, `status` and `log` against a real
//! PostgreSQL: each test gets its own database on the throwaway cluster.

mod common;

use common::pg::TestDb;
use common::{TempWorkspace, count, jobsctl, jobsctl_on, jobsctl_process, json_stdout};
use predicates::prelude::*;
use std::time::Duration;

/// Wait (up to 10 s) until another session runs a query containing `text`.
fn wait_until_running(db: &TestDb, text: &str) {
    let sql = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%{text}%' AND pid <> pg_backend_pid()"
    );
    for _ in 0..200 {
        if count(db, &sql) > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no session ran `{text}` within 10 s");
}

fn deployed_changes(db: &TestDb) -> i64 {
    count(db, "SELECT count(*) FROM pgpm_migrate.changes")
}

/// A workspace with one package `app` of three changes creating tables.
fn three_changes() -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"])
        .change("app", "a", "CREATE TABLE a (id int);")
        .change("app", "b [a]", "CREATE TABLE b (id int);")
        .plan_line("app", &format!("@v1 {}", common::PLANNED))
        .change("app", "c [b]", "CREATE TABLE c (id int);")
        .write("packages/app/revert/a.sql", "DROP TABLE a;\n")
        .write("packages/app/revert/b.sql", "DROP TABLE b;\n")
        .write("packages/app/revert/c.sql", "DROP TABLE c;\n")
        .write(
            "packages/app/verify/a.sql",
            "SELECT id FROM a WHERE false;\n",
        )
        .write(
            "packages/app/verify/b.sql",
            "SELECT id FROM b WHERE false;\n",
        )
        .write(
            "packages/app/verify/c.sql",
            "SELECT id FROM c WHERE false;\n",
        );
    ws
}

fn tables(db: &TestDb) -> Vec<String> {
    db.column("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn fresh_database_deploys_verifies_and_redeploys_as_a_no_op() {
    let db = TestDb::not_created("fresh");
    jobsctl_on(&db)
        .args(["deploy", "--createdb"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "created database {}",
            db.name
        )))
        .stdout(predicate::str::contains(
            "deployed  pgpm-jobs:schemas/app_jobs/schema",
        ));
    jobsctl_on(&db)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("verified"));
    let status = jobsctl_on(&db)
        .args(["status", "--format", "json", "--exit-code"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status = json_stdout(&status);
    for package in status["packages"].as_array().unwrap() {
        assert_eq!(package["pending"].as_array().unwrap().len(), 0, "{package}");
    }
    let before = deployed_changes(&db);
    jobsctl_on(&db)
        .arg("deploy")
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to do"));
    assert_eq!(deployed_changes(&db), before);
}

#[test]
fn revert_all_leaves_no_objects_and_deploy_works_again() {
    let db = TestDb::new("revert_all");
    jobsctl_on(&db).arg("deploy").assert().success();
    jobsctl_on(&db).args(["revert", "-y"]).assert().success();
    assert_eq!(deployed_changes(&db), 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'app_jobs'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'verify\\_%'"
        ),
        0
    );
    jobsctl_on(&db).arg("deploy").assert().success();
    jobsctl_on(&db).arg("verify").assert().success();
}

#[test]
fn deploy_to_and_revert_to_are_exact() {
    let ws = three_changes();
    let db = TestDb::new("to");
    let on = |args: &[&str]| {
        let mut cmd = jobsctl_on(&db);
        cmd.args(args).arg("--workspace").arg(ws.path());
        cmd
    };
    on(&["deploy", "--to", "@v1"]).assert().success();
    assert_eq!(tables(&db), ["a", "b"]);
    on(&["deploy", "--to", "app:b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to do"));
    on(&["deploy"]).assert().success();
    assert_eq!(tables(&db), ["a", "b", "c"]);
    on(&["revert", "-y", "--to", "a"]).assert().success();
    assert_eq!(tables(&db), ["a"]);
    assert_eq!(
        db.column("SELECT change_name FROM pgpm_migrate.changes"),
        [Some("a".to_owned())]
    );
}

#[test]
fn failing_change_leaves_nothing_and_the_next_run_continues() {
    let ws = three_changes();
    ws.write("packages/app/deploy/b.sql", "-- Deploy app:b\nBEGIN;\nCREATE TABLE b (id int);\nSELECT nope FROM b; -- héllo\nCOMMIT;\n");
    let db = TestDb::new("failing");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("app:b: "))
        .stderr(predicate::str::contains(
            "packages/app/deploy/b.sql:4:8: column \"nope\" does not exist [SQLSTATE 42703]",
        ));
    assert_eq!(tables(&db), ["a"]);
    assert_eq!(
        db.column("SELECT change_name FROM pgpm_migrate.changes"),
        [Some("a".to_owned())]
    );
    assert_eq!(
        db.value("SELECT error_code FROM pgpm_migrate.events WHERE change_name = 'b' AND event_type = 'deploy'"),
        Some("42703".to_owned())
    );
    ws.write("packages/app/deploy/b.sql", "CREATE TABLE b (id int);\n");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(tables(&db), ["a", "b", "c"]);
}

/// A script that ends with `SET ROLE` to a role without rights on the
/// registry (or changes settings) affects neither jobsctl's recording of it
/// nor the next script, in every transaction scope and outside a
/// transaction.
#[test]
fn a_scripts_set_role_and_settings_leak_neither_into_the_registry_nor_the_next_change() {
    for tx in ["change", "package", "all"] {
        let ws = TempWorkspace::new();
        ws.package("app", &["plpgsql"])
            .change(
                "app",
                "lowly",
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobsctl_test_lowly') \
                 THEN CREATE ROLE jobsctl_test_lowly; END IF; END $$;\n\
                 SET ROLE jobsctl_test_lowly;\nSET search_path = nowhere;\n-- no newline at the end",
            )
            .change("app", "outside [lowly]", "")
            .change("app", "owned [outside]", "CREATE TABLE owned (id int);")
            // VACUUM cannot run in a transaction: this change runs outside one
            .write(
                "packages/app/deploy/outside.sql",
                "SET ROLE jobsctl_test_lowly;\nVACUUM pg_catalog.pg_am;\n",
            );
        let db = TestDb::new(&format!("set_role_{tx}"));
        jobsctl_on(&db)
            .args(["deploy", "--tx", tx, "--workspace"])
            .arg(ws.path())
            .assert()
            .success();
        assert_eq!(
            db.column(
                "SELECT change_name FROM pgpm_migrate.changes ORDER BY deployed_at, change_name"
            ),
            [
                Some("lowly".to_owned()),
                Some("outside".to_owned()),
                Some("owned".to_owned())
            ],
            "--tx {tx}"
        );
        assert_eq!(
            db.value("SELECT tableowner::text = current_user FROM pg_tables WHERE tablename = 'owned' AND schemaname = 'public'"),
            Some("t".to_owned()),
            "--tx {tx}: the next change ran as the connecting user, with the default search_path"
        );
    }
}

/// A last statement without its `;` that is incomplete is reported as
/// PostgreSQL reports it, at the end of the file, in every scope.
#[test]
fn an_incomplete_last_statement_is_reported_at_end_of_input() {
    let ws = three_changes();
    ws.write(
        "packages/app/deploy/b.sql",
        "CREATE TABLE b (id int);\nCREATE TABLE b2 (id int\n",
    );
    for tx in ["change", "all"] {
        let db = TestDb::new(&format!("incomplete_{tx}"));
        jobsctl_on(&db)
            .args(["deploy", "--tx", tx, "--workspace"])
            .arg(ws.path())
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "packages/app/deploy/b.sql:3:1: syntax error at end of input [SQLSTATE 42601]",
            ));
    }
}

#[test]
fn whole_run_transaction_rolls_back_every_change() {
    let ws = three_changes();
    ws.write("packages/app/deploy/c.sql", "SELECT 1/0;\n");
    let db = TestDb::new("tx_all");
    jobsctl_on(&db)
        .args(["deploy", "--tx", "all", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "rolled back with it: app:a, app:b",
        ))
        .stderr(predicate::str::contains(
            "division by zero [SQLSTATE 22012]",
        ));
    assert!(tables(&db).is_empty());
    assert_eq!(deployed_changes(&db), 0);
}

#[test]
fn concurrent_index_change_deploys_outside_a_transaction() {
    let ws = three_changes();
    ws.change("app", "idx [a]", "SELECT 1;")
        .write(
            "packages/app/deploy/idx.sql",
            "-- Deploy app:idx\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_id ON a (id);\n",
        )
        .write(
            "packages/app/revert/idx.sql",
            "DROP INDEX CONCURRENTLY a_id;\n",
        );
    let db = TestDb::new("cic");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("app:idx").and(predicate::str::contains("[no transaction]")),
        );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'a_id'::regclass AND indisvalid"
        ),
        1
    );
    jobsctl_on(&db)
        .args(["revert", "-y", "--to", "c", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_class WHERE relname = 'a_id'"),
        0
    );
}

#[test]
fn drift_stops_the_deploy_and_status_reports_it() {
    let ws = three_changes();
    let db = TestDb::new("drift");
    jobsctl_on(&db)
        .args(["deploy", "--to", "a", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    ws.write("packages/app/deploy/a.sql", "CREATE TABLE a (id bigint);\n");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "drift: app:a was deployed with script hash",
        ))
        .stderr(predicate::str::contains("--accept-drift"));
    assert_eq!(tables(&db), ["a"]);
    jobsctl_on(&db)
        .args(["status", "--exit-code", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("drifted  a"));
    jobsctl_on(&db)
        .args(["deploy", "--accept-drift", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(tables(&db), ["a", "b", "c"]);
}

#[test]
fn log_only_adopts_an_existing_database() {
    let ws = three_changes();
    let db = TestDb::new("log_only");
    db.client()
        .batch_execute("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int);")
        .unwrap();
    jobsctl_on(&db)
        .args(["deploy", "--log-only", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("logged  app:c"));
    assert_eq!(deployed_changes(&db), 3);
    jobsctl_on(&db)
        .args(["verify", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn dry_run_changes_nothing() {
    let ws = three_changes();
    let db = TestDb::new("dry_run");
    jobsctl_on(&db)
        .args(["deploy", "--dry-run", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("pending  app:a")
                .and(predicate::str::contains("would deploy 3 changes")),
        );
    assert!(tables(&db).is_empty());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgpm_migrate'"
        ),
        0
    );
}

#[test]
fn two_deploys_at_once_one_applies_everything() {
    let db = TestDb::new("concurrent");
    let spawn = || {
        let mut cmd = jobsctl_process(&db);
        cmd.arg("deploy");
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .collect();
    assert_eq!(
        stdout
            .iter()
            .filter(|s| s.contains("nothing to do"))
            .count(),
        1,
        "{stdout:#?}"
    );
    assert_eq!(
        stdout
            .iter()
            .filter(|s| s.contains("deployed  pgpm-jobs:schemas/app_jobs/schema"))
            .count(),
        1,
        "{stdout:#?}"
    );
}

#[test]
fn killed_deploy_converges_on_the_next_run() {
    let ws = three_changes();
    ws.write(
        "packages/app/deploy/b.sql",
        "CREATE TABLE b (id int);\nSELECT pg_sleep(30);\n",
    );
    let db = TestDb::new("sigkill");
    let mut child = jobsctl_process(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until b's script is running, then kill jobsctl outright.
    wait_until_running(&db, "pg_sleep(30)");
    child.kill().unwrap();
    child.wait().unwrap();
    ws.write("packages/app/deploy/b.sql", "CREATE TABLE b (id int);\n");
    // The server notices the dead client and rolls back; the lock goes with it.
    jobsctl_on(&db)
        .args(["deploy", "--lock-timeout", "30", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(tables(&db), ["a", "b", "c"]);
    assert_eq!(deployed_changes(&db), 3);
    jobsctl_on(&db)
        .args(["verify", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn interrupted_deploy_rolls_back_and_exits_130() {
    let ws = three_changes();
    ws.write(
        "packages/app/deploy/b.sql",
        "CREATE TABLE b (id int);\nSELECT pg_sleep(30);\n",
    );
    let db = TestDb::new("sigint");
    let child = jobsctl_process(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_running(&db, "pg_sleep(30)");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert_eq!(tables(&db), ["a"]);
    // The lock was released: a new deploy does not wait.
    jobsctl_on(&db)
        .args(["deploy", "--lock-timeout", "1", "--to", "a", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn lock_timeout_names_the_holder_and_the_wait() {
    let db = TestDb::new("lock_timeout");
    let mut holder = db.client();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&0x6A6F_6273_6374_6C00_i64])
        .unwrap();
    jobsctl_on(&db)
        .args(["deploy", "--lock-timeout", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("waiting for the deploy lock"))
        .stderr(predicate::str::contains(
            "gave up waiting for the deploy lock after 1.",
        ))
        .stderr(predicate::str::contains("held by pid"));
}

#[test]
fn verify_reports_a_broken_object_with_the_server_error() {
    let db = TestDb::new("verify_broken");
    jobsctl_on(&db).arg("deploy").assert().success();
    db.client()
        .batch_execute("DROP FUNCTION public.verify_view(text)")
        .unwrap();
    jobsctl_on(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("verify failed: pgpm-verify:procedures/verify_view: extensions/pgpm-verify/verify/procedures/verify_view.sql"))
        .stderr(predicate::str::contains("SQLSTATE"));
    assert_eq!(
        db.value("SELECT change_name FROM pgpm_migrate.events WHERE event_type = 'verify' AND error_message IS NOT NULL"),
        Some("procedures/verify_view".to_owned())
    );
}

#[test]
fn verify_of_an_empty_database_fails() {
    let db = TestDb::new("verify_empty");
    jobsctl_on(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing is deployed"));
}

#[test]
fn revert_without_confirmation_is_refused_off_a_terminal() {
    let db = TestDb::new("revert_confirm");
    jobsctl_on(&db).arg("deploy").assert().success();
    jobsctl_on(&db)
        .arg("revert")
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass -y"));
}

#[test]
fn revert_of_a_package_others_need_is_refused() {
    let db = TestDb::new("revert_blocked");
    jobsctl_on(&db).arg("deploy").assert().success();
    jobsctl_on(&db)
        .args(["revert", "-y", "--package", "pgpm-verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot revert pgpm-verify:"));
    assert!(deployed_changes(&db) > 0);
}

#[test]
fn script_notices_are_shown() {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"]).change(
        "app",
        "loud",
        "DO $$ BEGIN RAISE NOTICE 'héllo from a script'; RAISE WARNING 'careful'; END $$;",
    );
    let db = TestDb::new("notices");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("NOTICE: héllo from a script"))
        .stderr(predicate::str::contains("WARNING: careful"));
}

#[test]
fn json_deploy_prints_one_document() {
    let ws = three_changes();
    let db = TestDb::new("json");
    let output = jobsctl_on(&db)
        .args(["deploy", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = json_stdout(&output);
    assert_eq!(report["changes"].as_array().unwrap().len(), 3);
    assert_eq!(report["changes"][0]["outcome"], "deployed");
}

#[test]
fn log_lists_events_newest_first() {
    let ws = three_changes();
    let db = TestDb::new("log");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["revert", "-y", "--to", "b", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    let output = jobsctl_on(&db)
        .args(["log", "--format", "json"])
        .output()
        .unwrap();
    let events = json_stdout(&output)["events"].as_array().unwrap().clone();
    assert_eq!(events[0]["event_type"], "revert");
    assert_eq!(events[0]["change_name"], "c");
    assert_eq!(events.len(), 4);
}

#[test]
fn database_url_flag_is_honoured() {
    let db = TestDb::new("url_flag");
    jobsctl()
        .args(["deploy", "-d", &db.tcp_url(), "--workspace"])
        .arg(three_changes().path())
        .assert()
        .success();
    assert_eq!(deployed_changes(&db), 3);
}

#[test]
fn conninfo_string_is_honoured() {
    let db = TestDb::new("conninfo");
    let server = common::pg::server();
    let conninfo = format!(
        "host={} port={} user={} dbname={}",
        server.host, server.port, server.user, db.name
    );
    jobsctl()
        .args(["deploy", "--database-url", &conninfo, "--workspace"])
        .arg(three_changes().path())
        .assert()
        .success();
    assert_eq!(deployed_changes(&db), 3);
}

#[test]
fn database_url_variable_is_honoured() {
    let db = TestDb::new("url_env");
    jobsctl()
        .env("DATABASE_URL", db.tcp_url())
        .args(["deploy", "--workspace"])
        .arg(three_changes().path())
        .assert()
        .success();
    assert_eq!(deployed_changes(&db), 3);
}

#[test]
fn pgpass_supplies_the_password() {
    let db = TestDb::new("pgpass");
    let role = format!("{}_owner", db.name);
    db.client()
        .batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN PASSWORD 's3cret:pw'; GRANT ALL ON DATABASE \"{}\" TO \"{role}\"; GRANT ALL ON SCHEMA public TO \"{role}\";", db.name))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:*:{}:{role}:s3cret\\:pw\n", db.name),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let url = format!(
        "postgres://{role}@127.0.0.1:{}/{}",
        common::pg::server().port,
        db.name
    );
    let output = jobsctl()
        .env("PGPASSFILE", &pgpass)
        .args(["deploy", "-d", &url, "--workspace"])
        .arg(three_changes().path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("s3cret"), "the password leaked: {all}");
    assert_eq!(deployed_changes(&db), 3);
}

#[test]
fn bad_connection_settings_are_a_usage_error() {
    jobsctl()
        .args([
            "status",
            "-d",
            "postgres://x@127.0.0.1:1/none?sslmode=bogus",
        ])
        .assert()
        .code(2);
}

#[test]
fn dry_run_with_createdb_treats_a_missing_database_as_empty() {
    let db = TestDb::not_created("dry_createdb");
    jobsctl_on(&db)
        .args(["deploy", "--createdb", "--dry-run", "--workspace"])
        .arg(three_changes().path())
        .assert()
        .success()
        .stdout(predicate::str::contains("would deploy 3 changes"));
    let exists = common::pg::server()
        .client("postgres")
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&db.name],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(exists, 0, "--dry-run must not create the database");
}

#[test]
fn status_exit_code_flags_pending_changes() {
    let db = TestDb::new("status_pending");
    let ws = three_changes();
    jobsctl_on(&db)
        .args(["status", "--exit-code", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no registry"))
        .stdout(predicate::str::contains("pending  a"));
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["status", "--exit-code", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn revert_of_one_package_keeps_its_dependencies() {
    let ws = TempWorkspace::new();
    ws.package("lib", &[])
        .change("lib", "base", "CREATE TABLE base (id int);");
    ws.package("app", &["lib"])
        .change("app", "top [lib:base]", "CREATE TABLE top (id int);");
    ws.write("packages/lib/revert/base.sql", "DROP TABLE base;\n")
        .write("packages/app/revert/top.sql", "DROP TABLE top;\n");
    let db = TestDb::new("revert_one_package");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["revert", "-y", "--package", "app", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("reverted 1 change"));
    assert_eq!(tables(&db), ["base"]);
}
