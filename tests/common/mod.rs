//! Test harness: run the real `jobsctl` binary, and build pgpm workspaces on
//! disk with a few calls. The throwaway cluster and its databases are in
//! `pg`, the helpers of the `app_jobs` queue tests in `queue`.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub mod pg;
pub mod queue;

pub const PLANNED: &str = "2025-08-26T23:57:44Z tester <tester@example.com>";

/// Variables that would point jobsctl at some other database.
const CONNECTION_VARIABLES: [&str; 13] = [
    "DATABASE_URL",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGOPTIONS",
    "PGPASSFILE",
    "PGSERVICE",
];

/// `jobsctl` with a clean environment: no colour, no workspace and no
/// database from the caller.
pub fn jobsctl() -> Command {
    let mut cmd = Command::cargo_bin("jobsctl").expect("the jobsctl binary is built");
    cmd.env_remove("JOBSCTL_WORKSPACE").env("NO_COLOR", "1");
    for variable in CONNECTION_VARIABLES {
        cmd.env_remove(variable);
    }
    // No ~/.pgpass of the machine's user.
    cmd.env("PGPASSFILE", "/nonexistent/jobsctl-test-pgpass");
    cmd
}

/// `jobsctl` pointed at a test database through the PG* variables.
pub fn jobsctl_on(db: &pg::TestDb) -> Command {
    let mut cmd = jobsctl();
    cmd.envs(db.env());
    cmd
}

/// The jobsctl binary as a process to spawn (for signals, races and
/// crashes): no colour, no `DATABASE_URL` or `JOBSCTL_WORKSPACE` of the
/// caller, pointed at `db` through the PG* variables.
pub fn jobsctl_process(db: &pg::TestDb) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("jobsctl"));
    cmd.env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("JOBSCTL_WORKSPACE")
        .envs(db.env());
    cmd
}

/// The one number that `sql` returns on `db`.
pub fn count(db: &pg::TestDb, sql: &str) -> i64 {
    db.value(sql).unwrap().parse().unwrap()
}

/// After a deploy of `ws` died in its change `slow` (`CREATE TABLE slow`,
/// then a sleep; the session killed, or the server crashed): only the
/// change `a` before it is recorded and no table `slow` is left. Then
/// `slow` loses its sleep and the next deploy of `ws` succeeds.
pub fn slow_change_undone_then_deployed(db: &pg::TestDb, ws: &TempWorkspace) {
    assert_eq!(
        db.column("SELECT change_name FROM pgpm_migrate.changes"),
        [Some("a".to_owned())]
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'slow'"
        ),
        0
    );
    ws.write(
        "packages/app/deploy/slow.sql",
        "CREATE TABLE slow (id int);\n",
    );
    jobsctl_on(db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
}

/// A pgpm workspace in a temporary folder: `pgpm.json` with
/// `packages/*`, packages added one call at a time.
pub struct TempWorkspace {
    dir: tempfile::TempDir,
}

impl TempWorkspace {
    pub fn new() -> TempWorkspace {
        let ws = TempWorkspace {
            dir: tempfile::tempdir().expect("a temporary folder"),
        };
        ws.write("pgpm.json", r#"{ "packages": ["packages/*"] }"#);
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn remove(&self, relative: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(relative)).unwrap();
        self
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(relative)).unwrap()
    }

    /// `packages/<name>` with a control file requiring `requires` and an
    /// empty plan.
    pub fn package(&self, name: &str, requires: &[&str]) -> &Self {
        self.write(
            &format!("packages/{name}/{name}.control"),
            format!(
                "comment = 'test package {name}'\ndefault_version = '0.0.1'\nrequires = '{}'\n",
                requires.join(",")
            ),
        );
        self.write(
            &format!("packages/{name}/pgpm.plan"),
            format!("%syntax-version=1.0.0\n%project={name}\n%uri={name}\n\n"),
        )
    }

    /// Append `line` (a change name with optional `[deps]`) to the package's
    /// plan and write its three scripts; `deploy` is the deploy script's SQL.
    pub fn change(&self, package: &str, line: &str, deploy: &str) -> &Self {
        let name = line.split_whitespace().next().unwrap();
        let plan = format!("packages/{package}/pgpm.plan");
        let text = self.read(&plan) + &format!("{line} {PLANNED}\n");
        self.write(&plan, text);
        self.write(
            &format!("packages/{package}/deploy/{name}.sql"),
            format!("-- Deploy {package}:{name}\nBEGIN;\n{deploy}\nCOMMIT;\n"),
        );
        self.write(
            &format!("packages/{package}/revert/{name}.sql"),
            format!("-- Revert {package}:{name}\nBEGIN;\nSELECT 'revert {name}';\nCOMMIT;\n"),
        );
        self.write(
            &format!("packages/{package}/verify/{name}.sql"),
            format!("-- Verify {package}:{name}\nSELECT 'verify {name}';\n"),
        )
    }

    /// Append a raw line (a tag, say) to the package's plan.
    pub fn plan_line(&self, package: &str, line: &str) -> &Self {
        let plan = format!("packages/{package}/pgpm.plan");
        let text = self.read(&plan) + line + "\n";
        self.write(&plan, text)
    }
}

/// The repository root: the embedded workspace's files live here too.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copy the embedded workspace's files out of the repository into `dest`.
pub fn copy_embedded_workspace(dest: &Path) {
    let root = repo_root();
    for file in ["pgpm.plan", "pgpm-jobs.control"] {
        std::fs::copy(root.join(file), dest.join(file)).unwrap();
    }
    for dir in ["deploy", "revert", "verify", "extensions"] {
        copy_dir(&root.join(dir), &dest.join(dir));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Parse stdout as the one JSON document it must be.
pub fn json_stdout(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A server error as a test failure message: SQLSTATE, message, detail,
/// hint, position and the PL/pgSQL context (`where`); other errors as they
/// display.
pub fn describe_sql_error(error: &postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return error.to_string();
    };
    let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(detail) = db.detail() {
        text += &format!("\nDETAIL: {detail}");
    }
    if let Some(hint) = db.hint() {
        text += &format!("\nHINT: {hint}");
    }
    if let Some(position) = db.position() {
        text += &format!("\nPOSITION: {position:?}");
    }
    if let Some(where_) = db.where_() {
        text += &format!("\nWHERE: {where_}");
    }
    text
}

/// Run a SQL test file (`tests/sql/<relative>`) on `db` as the superuser:
/// `tests/sql/prelude.sql` (the assertions `ok`, `eq` and `raises`) and the
/// file in one simple-query batch, so that the file's `BEGIN` takes the
/// prelude into its transaction. Panic with the server's message, detail,
/// hint and context, and the line of the file, when any statement fails.
pub fn run_sql_file(db: &pg::TestDb, relative: &str) {
    let read = |relative: &str| {
        let path = repo_root().join("tests/sql").join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    };
    let prelude = read("prelude.sql") + "\n";
    let file = read(relative);
    if let Err(error) = db.client().batch_execute(&(prelude.clone() + &file)) {
        // A position counts characters from the start of the batch.
        let line = match error.as_db_error().and_then(|e| e.position()) {
            Some(postgres::error::ErrorPosition::Original(at)) => {
                let at = (*at as usize).saturating_sub(1);
                let in_file = at.checked_sub(prelude.chars().count());
                in_file.map(|at| {
                    let before: String = file.chars().take(at).collect();
                    format!(" at line {}", before.matches('\n').count() + 1)
                })
            }
            _ => None,
        };
        panic!(
            "tests/sql/{relative} failed{}:\n{}",
            line.unwrap_or_default(),
            describe_sql_error(&error)
        );
    }
}

/// The `*.sql` files of `tests/sql/<folder>`, sorted by name.
pub fn sql_files(folder: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("tests/sql").join(folder))
        .unwrap_or_else(|e| panic!("list tests/sql/{folder}: {e}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    files.sort();
    files
}

/// The SQLSTATE of a server error (`None` for other errors).
pub fn sqlstate(error: &postgres::Error) -> Option<String> {
    error.code().map(|code| code.code().to_owned())
}

/// The server process id of the backend behind `client`.
pub fn backend_pid(client: &mut postgres::Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap_or_else(|e| panic!("pg_backend_pid(): {}", describe_sql_error(&e)))
        .get(0)
}

/// Cut a connection the way an administrator (or a dying network) does:
/// `pg_terminate_backend(pid)` from `admin`, which must be connected to the
/// same database as the victim (other databases' backends are never
/// touched). Waits, up to 10 s, until the backend has left
/// `pg_stat_activity`; by then its open transaction is rolled back and its
/// locks are released. Returns whether the backend was there to terminate.
pub fn terminate_backend(admin: &mut postgres::Client, pid: i32) -> bool {
    let terminated: bool = admin
        .query_one(
            "SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity \
             WHERE pid = $1 AND datname = current_database()",
            &[&pid],
        )
        .unwrap_or_else(|e| panic!("pg_terminate_backend({pid}): {}", describe_sql_error(&e)))
        .get(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .unwrap_or_else(|e| panic!("pg_stat_activity: {}", describe_sql_error(&e)))
            .get(0);
        if left == 0 {
            return terminated;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "backend {pid} still runs 10 s after pg_terminate_backend"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// SplitMix64: a small, seeded, reproducible generator (the tests need no
/// cryptographic randomness, and no extra dependency).
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Sets the flag when its thread unwinds, so that the other threads of a
/// test stop instead of waiting for work that will never be finished.
pub struct AbortOnPanic<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// `app_jobs.job_queues` agrees with the jobs: every queue's `job_count` is
/// its real number of jobs, no row is left for an empty queue, and no queue
/// is locked. For the end of a run, when no worker holds a job.
pub fn assert_job_queues_exact_and_unlocked(client: &mut postgres::Client) {
    let rows = client
        .query(
            "SELECT coalesce(q.queue_name, r.queue_name), coalesce(q.job_count, 0)::bigint, \
                    coalesce(r.n, 0), q.locked_at IS NOT NULL OR q.locked_by IS NOT NULL \
               FROM app_jobs.job_queues AS q \
               FULL JOIN (SELECT queue_name, count(*) AS n FROM app_jobs.jobs \
                           WHERE queue_name IS NOT NULL GROUP BY 1) AS r \
                 ON r.queue_name = q.queue_name",
            &[],
        )
        .unwrap_or_else(|e| panic!("job_queues: {}", describe_sql_error(&e)));
    for row in &rows {
        let (queue, job_count, real): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let locked = row.get::<_, Option<bool>>(3).unwrap_or(false);
        assert_eq!(job_count, real, "job_queues.job_count of {queue}");
        assert!(real > 0, "job_queues row of the empty queue {queue}");
        assert!(!locked, "queue {queue} is still locked");
    }
}
