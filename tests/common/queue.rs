//! Helpers of the `app_jobs` queue tests (`app_jobs`, `reliability`,
//! `queue_crash`, `scheduling`): a deployed database, the tenant of every
//! job, results unwrapped with the server's full error, claims through
//! `get_job`/`complete_job`/`fail_job`, and what a lost connection looks
//! like.

use super::describe_sql_error;
use super::jobsctl_on;
use super::pg::TestDb;
use super::sqlstate;
use postgres::Client;
use postgres::error::SqlState;

/// The tenant of every job these tests add.
pub const TENANT: &str = "5b720132-17d5-424d-9bcb-ee7b17c13d43";

/// A fresh database with the embedded workspace deployed by `jobsctl`.
pub fn deployed(label: &str) -> TestDb {
    let db = TestDb::new(label);
    jobsctl_on(&db).arg("deploy").assert().success();
    db
}

/// Unwrap a database result, or fail with the server's full error.
pub fn ok<T>(result: Result<T, postgres::Error>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}:\n{}", describe_sql_error(&e)))
}

/// The one `bigint` that `sql` returns.
pub fn count(client: &mut Client, sql: &str) -> i64 {
    ok(client.query_one(sql, &[]), sql).get(0)
}

/// Add `jobs` jobs of task `task` in one statement, payload `{"n": 1..jobs}`;
/// their ids.
pub fn add_numbered(client: &mut Client, task: &str, jobs: i64) -> Vec<i64> {
    ok(
        client.query(
            &format!(
                "SELECT j.id FROM generate_series(1, {jobs}) AS n, \
                 LATERAL app_jobs.add_job('{TENANT}', '{task}', json_build_object('n', n)) AS j"
            ),
            &[],
        ),
        "enqueue",
    )
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// The 1, 5 and 15 minute load averages of the machine.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A job as `get_job` hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: i64,
    pub attempts: i32,
    pub queue: Option<String>,
    pub last_error: Option<String>,
}

/// Which lock expiry a worker's `get_job` uses.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    /// The default argument (4 hours): nothing expires during a test.
    Default,
    /// The `job_expiry` argument, an interval literal.
    Argument(&'static str),
    /// `job_expiry := NULL`: the `app_jobs.job_expiry` setting.
    Setting,
}

/// `get_job` of `worker`: the claimed job, `None` when nothing is runnable.
pub fn get_job(client: &mut Client, worker: &str, expiry: Expiry) -> Option<Claimed> {
    const COLUMNS: &str = "id, attempts, queue_name, last_error";
    let row = match expiry {
        Expiry::Default => client.query_one(
            &format!("SELECT {COLUMNS} FROM app_jobs.get_job($1)"),
            &[&worker],
        ),
        Expiry::Argument(interval) => client.query_one(
            &format!("SELECT {COLUMNS} FROM app_jobs.get_job($1, NULL, $2::text::interval)"),
            &[&worker, &interval],
        ),
        Expiry::Setting => client.query_one(
            &format!("SELECT {COLUMNS} FROM app_jobs.get_job(worker_id := $1, job_expiry := NULL)"),
            &[&worker],
        ),
    };
    let row = ok(row, &format!("get_job({worker}, {expiry:?})"));
    row.get::<_, Option<i64>>(0).map(|id| Claimed {
        id,
        attempts: row
            .get::<_, Option<i32>>(1)
            .expect("attempts of a claimed job"),
        queue: row.get(2),
        last_error: row.get(3),
    })
}

/// `complete_job`: the id when the worker held the job, `None` otherwise.
pub fn complete(client: &mut Client, worker: &str, id: i64) -> Option<i64> {
    ok(
        client.query_one(
            "SELECT id FROM app_jobs.complete_job($1, $2)",
            &[&worker, &id],
        ),
        &format!("complete_job({worker}, {id})"),
    )
    .get(0)
}

/// `fail_job`: the id when the worker held the job, `None` otherwise.
pub fn fail(client: &mut Client, worker: &str, id: i64, message: &str) -> Option<i64> {
    ok(
        client.query_one(
            "SELECT id FROM app_jobs.fail_job($1, $2, $3)",
            &[&worker, &id, &message],
        ),
        &format!("fail_job({worker}, {id})"),
    )
    .get(0)
}

/// An error without a SQLSTATE that says the connection is gone: closed,
/// or broken underneath (an I/O error).
fn closed_or_broken(error: &postgres::Error) -> bool {
    error.is_closed()
        || std::error::Error::source(error)
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
}

/// The error of a connection that was cut (terminated by an administrator,
/// closed, or broken), as opposed to an error of the statement.
pub fn terminated(error: &postgres::Error) -> bool {
    match error.code() {
        Some(code) => *code == SqlState::ADMIN_SHUTDOWN,
        None => closed_or_broken(error),
    }
}

/// The error of a session that a server crash ended (or of a connection
/// attempt while the server recovers), as opposed to an error of the
/// statement: what [`terminated`] accepts, and crash shutdown, "cannot
/// connect now" and every connection exception (class 08).
pub fn connection_lost(error: &postgres::Error) -> bool {
    match sqlstate(error) {
        // admin_shutdown, crash_shutdown, cannot_connect_now; class 08:
        // connection exceptions
        Some(code) => {
            matches!(code.as_str(), "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }
        None => closed_or_broken(error),
    }
}
