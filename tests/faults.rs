//! Deployer faults: many deployers at once, a session killed by the server,
//! a change that hits `lock_timeout`, hostile input. After each, the next run
//! converges and `verify` passes.

mod common;

use common::pg::TestDb;
use common::{
    TempWorkspace, count, jobsctl, jobsctl_on, jobsctl_process, slow_change_undone_then_deployed,
};
use predicates::prelude::*;
use std::time::Duration;

fn embedded_change_count() -> i64 {
    let output = jobsctl()
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["changes"].as_array())
        .map(|c| c.len() as i64)
        .sum()
}

fn spawn(db: &TestDb, args: &[&str]) -> std::process::Child {
    jobsctl_process(db)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn eight_deployers_at_once_apply_everything_exactly_once() {
    let db = TestDb::new("eight_deployers");
    let children: Vec<_> = (0..8)
        .map(|_| spawn(&db, &["deploy", "--format", "json"]))
        .collect();
    let mut applied = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        applied.push(report["changes"].as_array().unwrap().len() as i64);
    }
    applied.sort();
    let total = embedded_change_count();
    assert_eq!(
        applied,
        [0, 0, 0, 0, 0, 0, 0, total],
        "one deployer applies everything"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM pgpm_migrate.changes"),
        total
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgpm_migrate.events WHERE error_code IS NOT NULL"
        ),
        0
    );
    jobsctl_on(&db).arg("verify").assert().success();
}

#[test]
fn session_terminated_mid_change_fails_cleanly_and_the_next_run_converges() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "a", "CREATE TABLE a (id int);")
        .change(
            "app",
            "slow [a]",
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);",
        );
    let db = TestDb::new("terminated");
    let child = spawn(&db, &["deploy", "--workspace", ws.path().to_str().unwrap()]);
    let killed = (0..200).any(|_| {
        let n = count(
            &db,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
        );
        if n == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        n > 0
    });
    assert!(killed, "the slow change never started");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("app:slow"), "{stderr}");
    slow_change_undone_then_deployed(&db, &ws);
    jobsctl_on(&db)
        .args(["verify", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn change_hitting_lock_timeout_reports_55p03_and_the_next_run_continues() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "t", "CREATE TABLE t (id int);")
        .change(
            "app",
            "alter [t]",
            "SET lock_timeout = '200ms';\nALTER TABLE t ADD COLUMN note text;",
        );
    let db = TestDb::new("lock_timeout_change");
    jobsctl_on(&db)
        .args(["deploy", "--to", "t", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("app:alter"))
        .stderr(predicate::str::contains("[SQLSTATE 55P03]"));
    tx.rollback().unwrap();
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'note'"
        ),
        1
    );
    // The script's SET did not leak into the session after it.
    assert_eq!(count(&db, "SELECT count(*) FROM pgpm_migrate.changes"), 2);
}

#[test]
fn createdb_quotes_a_hostile_database_name() {
    let name = format!(
        "we\"ird'; DROP DATABASE postgres; -- {}",
        std::process::id()
    );
    let db = TestDb::not_created("unused");
    let conninfo = format!(
        "dbname='{}'",
        name.replace('\\', "\\\\").replace('\'', "\\'")
    );
    jobsctl_on(&db)
        .args(["deploy", "--createdb", "-d", &conninfo])
        .assert()
        .success();
    let admin = &mut common::pg::server().client("postgres");
    let found: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(found, 1);
    let postgres: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(postgres, 1);
}

#[test]
fn crlf_and_bom_scripts_deploy_and_hash_their_bytes() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change("app", "a", "SELECT 1;");
    let script = "\u{feff}-- Deploy app:a\r\nBEGIN;\r\nCREATE TABLE a (note text DEFAULT 'é');\r\nCOMMIT;\r\n";
    ws.write("packages/app/deploy/a.sql", script);
    let db = TestDb::new("crlf_bom");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    let expected = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(script.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(
        db.value("SELECT script_hash FROM pgpm_migrate.changes"),
        Some(expected)
    );
    jobsctl_on(&db)
        .args(["verify", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn invalid_utf8_in_a_script_is_located() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change("app", "a", "SELECT 1;");
    ws.write("packages/app/deploy/a.sql", b"SELECT 1;\nSELECT '\xff';\n");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/app/deploy/a.sql:2:9: not valid UTF-8",
        ));
}

#[test]
fn deep_change_names_and_large_scripts_deploy() {
    let ws = TempWorkspace::new();
    let deep = (0..25)
        .map(|i| format!("level{i}"))
        .collect::<Vec<_>>()
        .join("/");
    ws.package("app", &[]).change("app", &deep, "SELECT 1;");
    // About 10 MB of SQL in one script.
    let row = "INSERT INTO big VALUES ('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');\n";
    let big = format!(
        "CREATE TABLE big (v text);\n{}",
        row.repeat(10 * 1024 * 1024 / row.len())
    );
    ws.change("app", &format!("big [{deep}]"), "SELECT 1;")
        .write("packages/app/deploy/big.sql", &big);
    let db = TestDb::new("deep_big");
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    assert!(count(&db, "SELECT count(*) FROM big") > 100_000);
}

/// SIGKILL at a pseudo-random moment of a full deploy, for several seeds:
/// the next deploy converges and the registry matches the catalog.
#[test]
fn deploy_killed_at_random_points_converges() {
    let total = embedded_change_count();
    for seed in [3_u64, 17, 42, 99, 123] {
        let db = TestDb::new(&format!("random_kill_{seed}"));
        // A cheap deterministic spread of kill delays between 0 and ~250 ms.
        let delay = Duration::from_millis((seed.wrapping_mul(2_654_435_761) >> 7) % 250);
        let mut child = spawn(&db, &["deploy"]);
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let output = spawn(&db, &["deploy", "--lock-timeout", "30"])
            .wait_with_output()
            .unwrap();
        assert!(
            output.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM pgpm_migrate.changes"),
            total,
            "seed {seed}"
        );
        jobsctl_on(&db).arg("verify").assert().success();
    }
}
