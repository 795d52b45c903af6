//! Lock-safe deploys and the lock report against a real PostgreSQL, one
//! database per test (docs/locks.md):
//!
//! - `--change-lock-timeout` / `--lock-retries`: a change that waits behind
//!   another session's lock gives up after the timeout, says who blocks it
//!   (pid, user, application, state, transaction age, query) and runs
//!   again after a pause; with the retries spent the deploy (or revert)
//!   exits 1 with the blocker named, the change not recorded, and the next
//!   run continues; the registry's own statements never time out;
//! - `lint --locks`: runs the pending changes in
//!   one transaction that is rolled back and reports the locks they take on
//!   tables that existed before, with their size.
//!
//! The blocking session is a second connection of the test holding a lock
//! in an open transaction, with its own `application_name`.

mod common;

use common::pg::TestDb;
use common::{TempWorkspace, backend_pid, count, jobsctl_on, json_stdout};
use std::thread;
use std::time::{Duration, Instant};

const BLOCKER_APP: &str = "blocker-test";

/// A workspace with package `app`: `t` creates table `t` (with `rows`
/// rows), and, when `alter` is set, `alter_t` adds a column to it (its
/// revert drops it again).
fn workspace(rows: u32, alter: bool) -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"]).change(
        "app",
        "t",
        &format!("CREATE TABLE t (id int);\nINSERT INTO t SELECT generate_series(1, {rows});"),
    );
    if alter {
        add_alter(&ws);
    }
    ws
}

fn add_alter(ws: &TempWorkspace) {
    ws.change("app", "alter_t [t]", "ALTER TABLE t ADD COLUMN x int;")
        .write(
            "packages/app/revert/alter_t.sql",
            "ALTER TABLE t DROP COLUMN x;\n",
        );
}

fn deploy(db: &TestDb, ws: &TempWorkspace) -> assert_cmd::Command {
    let mut cmd = jobsctl_on(db);
    cmd.args(["deploy", "--workspace"]).arg(ws.path());
    cmd
}

/// A session that holds `lock` (e.g. `LOCK TABLE t IN ACCESS EXCLUSIVE
/// MODE`) in an open transaction, under application_name `blocker-test`.
struct Blocker {
    client: postgres::Client,
    pid: i32,
}

impl Blocker {
    fn hold(db: &TestDb, lock: &str) -> Blocker {
        let mut client = db.client();
        // Asked first, so that the lock is the session's last query.
        let pid = backend_pid(&mut client);
        client
            .batch_execute(&format!("SET application_name = '{BLOCKER_APP}'; BEGIN"))
            .unwrap();
        client.batch_execute(lock).unwrap();
        Blocker { client, pid }
    }

    fn release(mut self) {
        self.client.batch_execute("COMMIT").unwrap();
    }

    /// Release the lock from a thread after `after`.
    fn release_after(self, after: Duration) -> thread::JoinHandle<()> {
        thread::spawn(move || {
            thread::sleep(after);
            self.release();
        })
    }
}

fn deployed(db: &TestDb) -> Vec<String> {
    db.column("SELECT change_name FROM pgpm_migrate.changes ORDER BY deployed_at, change_name")
        .into_iter()
        .flatten()
        .collect()
}

fn has_column_x(db: &TestDb) -> bool {
    count(
        db,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'x'",
    ) == 1
}

#[test]
fn a_change_waiting_behind_a_lock_is_retried_names_the_blocker_and_succeeds_once_released() {
    let db = TestDb::new("lock_retry_ok");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let pid = blocker.pid;
    let releaser = blocker.release_after(Duration::from_secs(1));
    let output = deploy(&db, &ws)
        .args(["--change-lock-timeout", "200ms"])
        .output()
        .unwrap();
    releaser.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "deploy failed:\n{stderr}");
    assert!(stderr.contains("app:alter_t"), "{stderr}");
    assert!(stderr.contains("SQLSTATE 55P03"), "{stderr}");
    assert!(stderr.contains("(attempt 1 of 6)"), "{stderr}");
    assert!(stderr.contains(&format!("pid {pid} (")), "{stderr}");
    assert!(
        stderr.contains(&format!("application {BLOCKER_APP}")),
        "{stderr}"
    );
    assert!(stderr.contains("idle in transaction"), "{stderr}");
    assert!(
        stderr.contains("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"),
        "{stderr}"
    );
    assert_eq!(deployed(&db), ["t", "alter_t"]);
    assert!(has_column_x(&db));
}

#[test]
fn a_deploy_gives_up_after_its_retries_with_the_blocker_named_and_the_next_run_deploys() {
    let db = TestDb::new("lock_give_up");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let pid = blocker.pid;
    let started = Instant::now();
    let output = deploy(&db, &ws)
        .args(["--change-lock-timeout", "200ms", "--lock-retries", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // 3 attempts of 200 ms, pauses of 1 s and 2 s: generous bounds only.
    assert!(started.elapsed() < Duration::from_secs(60));
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: change failed:"))
        .unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    assert!(error.contains("app:alter_t"), "{error}");
    assert!(error.contains("packages/app/deploy/alter_t.sql"), "{error}");
    assert!(error.contains("[SQLSTATE 55P03]"), "{error}");
    assert!(
        stderr.contains(&format!("blocked by: pid {pid} (")),
        "{stderr}"
    );
    assert!(stderr.contains("gave up after 3 attempts"), "{stderr}");
    assert!(
        stderr.contains("waiting for: AccessExclusiveLock on relation t"),
        "{stderr}"
    );
    // not recorded, not applied; the earlier change stays
    assert_eq!(deployed(&db), ["t"]);
    assert!(!has_column_x(&db));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgpm_migrate.events WHERE change_name = 'alter_t' AND error_code = '55P03'"
        ),
        1
    );
    blocker.release();
    deploy(&db, &ws)
        .args(["--change-lock-timeout", "200ms"])
        .assert()
        .success();
    assert_eq!(deployed(&db), ["t", "alter_t"]);
    assert!(has_column_x(&db));
}

#[test]
fn under_tx_all_a_retry_reruns_only_the_blocked_change_from_its_savepoint() {
    let db = TestDb::new("lock_tx_all");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    // `before` is deployed in the same transaction, ahead of the blocked
    // change; the blocked change writes a row before it waits.
    ws.change("app", "before [t]", "CREATE TABLE before (id int);")
        .change("app", "log", "CREATE TABLE log (at timestamptz);")
        .change(
            "app",
            "alter_t [t log]",
            "INSERT INTO log VALUES (now());\nALTER TABLE t ADD COLUMN x int;",
        );
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let releaser = blocker.release_after(Duration::from_secs(1));
    let output = deploy(&db, &ws)
        .args(["--tx", "all", "--change-lock-timeout", "200ms"])
        .output()
        .unwrap();
    releaser.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("(attempt 1 of 6)"), "{stderr}");
    assert_eq!(deployed(&db).len(), 4);
    // the failed attempts' work was rolled back to the savepoint
    assert_eq!(count(&db, "SELECT count(*) FROM log"), 1);
    assert!(has_column_x(&db));
}

#[test]
fn registry_writes_are_not_subject_to_the_change_lock_timeout() {
    let db = TestDb::new("lock_registry");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    ws.change("app", "u", "CREATE TABLE u (id int);");
    // Recording `u` (INSERT into changes) waits for this SHARE lock; the
    // change itself does not touch the registry. The session's own
    // lock_timeout (PGOPTIONS) is short too.
    let blocker = Blocker::hold(&db, "LOCK TABLE pgpm_migrate.changes IN SHARE MODE");
    let releaser = blocker.release_after(Duration::from_secs(1));
    let output = deploy(&db, &ws)
        .env("PGOPTIONS", "-c lock_timeout=100")
        .args(["--change-lock-timeout", "100ms", "--lock-retries", "0"])
        .output()
        .unwrap();
    releaser.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("55P03"), "{stderr}");
    assert_eq!(deployed(&db), ["t", "u"]);
}

#[test]
fn revert_honours_the_change_lock_timeout_and_names_the_blocker() {
    let db = TestDb::new("lock_revert");
    let ws = workspace(10, true);
    deploy(&db, &ws).assert().success();
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let pid = blocker.pid;
    let output = jobsctl_on(&db)
        .args(["revert", "-y", "--to", "t", "--workspace"])
        .arg(ws.path())
        .env("JOBSCTL_CHANGE_LOCK_TIMEOUT", "200ms")
        .args(["--lock-retries", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("(attempt 1 of 2)"), "{stderr}");
    assert!(
        stderr.contains("packages/app/revert/alter_t.sql"),
        "{stderr}"
    );
    assert!(stderr.contains("[SQLSTATE 55P03]"), "{stderr}");
    assert!(
        stderr.contains(&format!("blocked by: pid {pid} (")),
        "{stderr}"
    );
    assert!(stderr.contains("gave up after 2 attempts"), "{stderr}");
    assert_eq!(deployed(&db), ["t", "alter_t"]);
    assert!(has_column_x(&db));
    blocker.release();
    jobsctl_on(&db)
        .args(["revert", "-y", "--to", "t", "--workspace"])
        .arg(ws.path())
        .env("JOBSCTL_CHANGE_LOCK_TIMEOUT", "200ms")
        .assert()
        .success();
    assert_eq!(deployed(&db), ["t"]);
    assert!(!has_column_x(&db));
}

#[test]
fn json_output_carries_the_blocker_in_the_warnings_and_the_failure() {
    let db = TestDb::new("lock_json");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let pid = blocker.pid;
    let output = deploy(&db, &ws)
        .args([
            "--format",
            "json",
            "--change-lock-timeout",
            "200ms",
            "--lock-retries",
            "1",
        ])
        .output()
        .unwrap();
    blocker.release();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // the wait is on stderr in JSON mode too
    assert!(stderr.contains("(attempt 1 of 2)"), "{stderr}");
    let document = json_stdout(&output);
    let warning = &document["warnings"][0];
    assert_eq!(warning["kind"], "lock_retry", "{document:#}");
    assert_eq!(warning["change"], "alter_t");
    assert_eq!(warning["sqlstate"], "55P03");
    assert_eq!(warning["attempt"], 1);
    assert_eq!(warning["lock_timeout_ms"], 200);
    assert_eq!(warning["blockers"][0]["pid"], pid, "{document:#}");
    assert_eq!(warning["blockers"][0]["application_name"], BLOCKER_APP);
    assert_eq!(warning["blockers"][0]["state"], "idle in transaction");
    assert!(warning["blockers"][0]["transaction_age_s"].is_number());
    let error = &document["error"];
    assert_eq!(error["kind"], "change_failed");
    assert_eq!(error["exit_code"], 1);
    let details = &error["details"];
    assert_eq!(details["sqlstate"], "55P03");
    assert!(
        details["path"]
            .as_str()
            .unwrap()
            .ends_with("packages/app/deploy/alter_t.sql")
    );
    assert_eq!(details["lock_wait"]["attempts"], 2);
    assert_eq!(details["lock_wait"]["retries"], 1);
    let blocker = &details["lock_wait"]["blockers"][0];
    assert_eq!(blocker["pid"], pid, "{document:#}");
    assert_eq!(blocker["application_name"], BLOCKER_APP);
    assert_eq!(blocker["query"], "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
}

#[test]
fn a_no_transaction_change_is_not_retried_once_one_of_its_statements_has_run() {
    let db = TestDb::new("lock_no_tx");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    ws.change("app", "idx [t]", "")
        .write(
            "packages/app/deploy/idx.sql",
            "-- jobsctl:no-transaction\nCREATE TABLE IF NOT EXISTS n (id int);\nALTER TABLE t ADD COLUMN x int;\n",
        );
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let output = deploy(&db, &ws)
        .args(["--change-lock-timeout", "200ms"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("attempt 1 of"), "{stderr}");
    assert!(
        stderr.contains("not retried: the change runs outside a transaction and 1 statement of it had run already"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("blocked by: pid {} (", blocker.pid)),
        "{stderr}"
    );
    assert_eq!(deployed(&db), ["t"]);
    blocker.release();
    // re-runnable: the next run completes it
    deploy(&db, &ws).assert().success();
    assert_eq!(deployed(&db), ["t", "idx"]);
}

fn lock_report(db: &TestDb, ws: &TempWorkspace) -> assert_cmd::Command {
    let mut cmd = jobsctl_on(db);
    cmd.args(["lint", "--locks", "-d", &db.name, "--workspace"])
        .arg(ws.path());
    cmd
}

#[test]
fn lock_report_flags_access_exclusive_on_a_populated_existing_table_with_its_size() {
    let db = TestDb::new("report_flag");
    let ws = workspace(1000, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    let output = lock_report(&db, &ws)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let document = json_stdout(&output);
    assert_eq!(document["rolled_back"], true);
    assert_eq!(document["flagged"], 1, "{document:#}");
    let change = &document["changes"][0];
    assert_eq!(change["change"], "alter_t");
    assert_eq!(change["status"], "ran");
    let lock = &change["locks"][0];
    assert_eq!(lock["relation"], "public.t", "{document:#}");
    assert_eq!(lock["kind"], "table");
    assert_eq!(lock["mode"], "AccessExclusiveLock");
    assert_eq!(lock["flagged"], true);
    assert_eq!(lock["rows"], 1000);
    assert!(lock["size_bytes"].as_i64().unwrap() > 0, "{document:#}");
    // and in words
    let output = lock_report(&db, &ws).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    let line = stdout
        .lines()
        .find(|l| l.contains("public.t"))
        .unwrap_or_else(|| panic!("no line for public.t:\n{stdout}"));
    assert!(line.contains("ACCESS EXCLUSIVE"), "{line}");
    assert!(line.contains("1000 rows"), "{line}");
    assert!(line.contains("flagged"), "{line}");
    assert!(stdout.contains("1 lock flagged"), "{stdout}");
}

#[test]
fn lock_report_of_a_change_that_only_creates_a_table_shows_no_lock_on_existing_relations() {
    let db = TestDb::new("report_new_table");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    ws.change(
        "app",
        "fresh",
        "CREATE TABLE fresh (id int PRIMARY KEY);\nINSERT INTO fresh VALUES (1);",
    );
    let output = lock_report(&db, &ws)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = json_stdout(&output);
    assert_eq!(document["changes"][0]["change"], "fresh");
    assert_eq!(document["changes"][0]["status"], "ran");
    assert_eq!(
        document["changes"][0]["locks"],
        serde_json::json!([]),
        "{document:#}"
    );
    assert_eq!(document["flagged"], 0);
}

#[test]
fn lock_report_accumulates_per_change_and_skips_no_transaction_changes() {
    let db = TestDb::new("report_accumulate");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    // The first change takes ROW EXCLUSIVE on t, the second the same (not
    // reported again), then ACCESS EXCLUSIVE (stronger: reported).
    ws.change("app", "write1 [t]", "INSERT INTO t VALUES (1);")
        .change("app", "write2 [t]", "INSERT INTO t VALUES (2);")
        .change("app", "idx [t]", "")
        .write(
            "packages/app/deploy/idx.sql",
            "CREATE INDEX CONCURRENTLY t_id ON t (id);\n",
        );
    add_alter(&ws);
    let output = lock_report(&db, &ws)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = json_stdout(&output);
    let changes = document["changes"].as_array().unwrap();
    let names: Vec<&str> = changes
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["write1", "write2", "idx", "alter_t"]);
    assert_eq!(
        changes[0]["locks"][0]["mode"], "RowExclusiveLock",
        "{document:#}"
    );
    assert_eq!(changes[0]["locks"][0]["flagged"], false);
    assert_eq!(changes[1]["locks"], serde_json::json!([]), "{document:#}");
    assert_eq!(changes[2]["status"], "skipped");
    assert!(
        changes[2]["reason"]
            .as_str()
            .unwrap()
            .contains("CREATE INDEX CONCURRENTLY"),
        "{document:#}"
    );
    assert_eq!(changes[3]["locks"][0]["mode"], "AccessExclusiveLock");
    assert_eq!(changes[3]["locks"][0]["previous_mode"], "RowExclusiveLock");
    assert_eq!(changes[3]["locks"][0]["flagged"], true);
}

#[test]
fn lock_report_leaves_the_database_and_the_registry_as_they_were() {
    let db = TestDb::new("report_unchanged");
    let ws = workspace(100, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    ws.change("app", "fresh", "CREATE TABLE fresh (id int);");
    let snapshot = |db: &TestDb| {
        (
            db.column("SELECT package || ':' || change_name || ':' || script_hash FROM pgpm_migrate.changes ORDER BY 1"),
            count(db, "SELECT count(*) FROM pgpm_migrate.events"),
            db.column("SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1"),
            count(db, "SELECT count(*) FROM t"),
        )
    };
    let before = snapshot(&db);
    lock_report(&db, &ws).assert().success();
    assert_eq!(snapshot(&db), before);
    // nothing left holding a lock either
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 't'"
        ),
        0
    );
}

#[test]
fn lock_report_is_refused_without_a_database_named_with_d() {
    let db = TestDb::new("report_refused");
    let ws = workspace(10, true);
    // PGDATABASE and friends point at the database: not enough.
    jobsctl_on(&db)
        .args(["lint", "--locks", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "name its database with -d/--database-url",
        ));
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        0
    );
}

#[test]
fn under_tx_all_giving_up_rolls_back_the_whole_transaction_and_the_next_run_deploys_it_all() {
    let db = TestDb::new("lock_tx_all_give_up");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    ws.change("app", "before [t]", "CREATE TABLE before (id int);");
    add_alter(&ws);
    // the settings from jobsctl.toml this time
    ws.write(
        "jobsctl.toml",
        "[defaults]\ntx = \"all\"\nchange_lock_timeout = \"200ms\"\nlock_retries = 1\n",
    );
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let output = deploy(&db, &ws).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("(attempt 1 of 2)"), "{stderr}");
    assert!(stderr.contains("gave up after 2 attempts"), "{stderr}");
    assert!(
        stderr.contains("rolled back with it: app:before"),
        "{stderr}"
    );
    assert_eq!(deployed(&db), ["t"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'before'"
        ),
        0
    );
    blocker.release();
    deploy(&db, &ws).assert().success();
    assert_eq!(deployed(&db).len(), 3);
    assert!(has_column_x(&db));
}

#[test]
fn a_bad_change_lock_timeout_is_a_usage_error() {
    let db = TestDb::new("lock_bad_flag");
    let ws = workspace(10, false);
    deploy(&db, &ws)
        .args(["--change-lock-timeout", "5"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--change-lock-timeout `5`: expected a duration like 500ms, 5s or 2m",
        ));
    ws.write(
        "jobsctl.toml",
        "[defaults]\nchange_lock_timeout = \"soon\"\n",
    );
    deploy(&db, &ws)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("defaults.change_lock_timeout"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        0
    );
}

#[test]
fn lock_report_names_the_blocker_when_a_change_cannot_get_its_lock_in_time() {
    let db = TestDb::new("report_blocked");
    let ws = workspace(10, false);
    deploy(&db, &ws).assert().success();
    add_alter(&ws);
    let blocker = Blocker::hold(&db, "LOCK TABLE t IN ACCESS SHARE MODE");
    let output = lock_report(&db, &ws)
        .args(["--lock-timeout", "300ms", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let document = json_stdout(&output);
    let change = &document["changes"][0];
    assert_eq!(change["status"], "failed", "{document:#}");
    assert_eq!(change["error"]["sqlstate"], "55P03");
    assert_eq!(
        change["error"]["lock_wait"]["blockers"][0]["pid"], blocker.pid,
        "{document:#}"
    );
    blocker.release();
    assert!(!has_column_x(&db));
}
