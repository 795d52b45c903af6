//! The server crashes and restarts in the middle of a deploy: PostgreSQL
//! terminates every session and recovers; the next deploy converges. In a
//! test binary of its own, because the crash hits every session of the
//! cluster.

mod common;

use common::pg::TestDb;
use common::{TempWorkspace, count, jobsctl_on, jobsctl_process, slow_change_undone_then_deployed};
use std::time::Duration;

#[test]
fn deploy_survives_a_server_crash_and_restart() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "a", "CREATE TABLE a (id int);")
        .change(
            "app",
            "slow [a]",
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);",
        )
        .change("app", "c [slow]", "CREATE TABLE c (id int);");
    let db = TestDb::new("crash");
    // The test cluster runs with synchronous_commit off for speed; a crash
    // would then lose commits, which is not what production servers do.
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET synchronous_commit = on",
            db.name
        ))
        .unwrap();
    let child = jobsctl_process(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut backend = None;
    for _ in 0..200 {
        backend = db.value("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()");
        if backend.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let backend = backend.expect("the slow change never started");
    // SIGKILL of a backend makes the postmaster terminate every session,
    // run crash recovery and accept connections again.
    let killed = std::process::Command::new("kill")
        .args(["-9", &backend])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Wait for recovery to finish.
    for _ in 0..300 {
        if std::panic::catch_unwind(|| db.value("SELECT 1")).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    slow_change_undone_then_deployed(&db, &ws);
    assert_eq!(count(&db, "SELECT count(*) FROM pgpm_migrate.changes"), 3);
    jobsctl_on(&db)
        .args(["verify", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}
