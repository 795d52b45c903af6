//! Operating the `app_jobs` queue of a database (pgpm-jobs `@0.6.0`): the
//! counts of `app_jobs.job_stats()`, listing and showing jobs, and the
//! admin functions `retry_failed_jobs`, `cancel_jobs`, `purge_failed_jobs`,
//! `pause_queue` and `resume_queue`. Short sequential work on the blocking
//! client, for `jobsctl jobs`; every value travels as a query parameter,
//! never spliced into SQL.
//!
//! A job's state is one of [`STATES`], decided exactly as `job_stats`
//! decides it (deploy/schemas/app_jobs/procedures/job_stats.sql): `list`
//! filters on the same expression, so its counts agree with `stats`.

use postgres::Client;
use postgres::types::ToSql;
use serde::Serialize;

/// The states of a job, in the order `job_stats` reports them.
pub const STATES: [&str; 6] = [
    "ready",
    "scheduled",
    "running",
    "retrying",
    "failed",
    "paused",
];

/// The state of job `j` (LEFT JOIN of the paused queue rows as `p`), the
/// CASE of app_jobs.job_stats.
const STATE_SQL: &str = "CASE WHEN j.locked_at IS NOT NULL THEN 'running' \
     WHEN j.attempts >= j.max_attempts THEN 'failed' \
     WHEN p.queue_name IS NOT NULL THEN 'paused' \
     WHEN j.run_at <= now() THEN 'ready' \
     WHEN j.attempts > 0 THEN 'retrying' \
     ELSE 'scheduled' END";

/// A timestamp as RFC 3339 in UTC.
fn utc(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
}

/// The columns of [`Job`], from `app_jobs.jobs AS j` (and `state`).
fn job_columns(state: &str) -> String {
    format!(
        "j.id, j.database_id::text, j.queue_name, j.task_identifier, {state}, j.payload::text, \
         j.priority, {run_at}, j.attempts, j.max_attempts, j.key, j.last_error, j.locked_by, \
         {locked_at}, extract(epoch FROM now() - j.locked_at)::float8, {created_at}, {updated_at}",
        run_at = utc("j.run_at"),
        locked_at = utc("j.locked_at"),
        created_at = utc("j.created_at"),
        updated_at = utc("j.updated_at"),
    )
}

/// One row of `app_jobs.jobs`, with its state.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub database_id: String,
    pub queue_name: Option<String>,
    pub task_identifier: String,
    pub state: String,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub run_at: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub key: Option<String>,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub locked_at: Option<String>,
    /// Seconds since `locked_at`.
    pub lock_age_seconds: Option<f64>,
    pub created_at: String,
    pub updated_at: String,
}

impl Job {
    fn from_row(row: &postgres::Row) -> Job {
        let payload: String = row.get(5);
        Job {
            id: row.get(0),
            database_id: row.get(1),
            queue_name: row.get(2),
            task_identifier: row.get(3),
            state: row.get(4),
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
            priority: row.get(6),
            run_at: row.get(7),
            attempts: row.get(8),
            max_attempts: row.get(9),
            key: row.get(10),
            last_error: row.get(11),
            locked_by: row.get(12),
            locked_at: row.get(13),
            lock_age_seconds: row.get(14),
            created_at: row.get(15),
            updated_at: row.get(16),
        }
    }
}

/// One row of `app_jobs.job_stats()`: a task identifier in a queue (None:
/// jobs without a queue).
#[derive(Debug, Clone, Serialize)]
pub struct StatsRow {
    pub task_identifier: String,
    pub queue_name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Seconds the oldest ready job has been due.
    pub oldest_ready_age_seconds: Option<f64>,
    /// Seconds the oldest running job has been locked.
    pub longest_running_seconds: Option<f64>,
}

/// Jobs by state, as `app_jobs.job_stats()` counts them (each job in
/// exactly one state).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub ready: i64,
    pub scheduled: i64,
    pub running: i64,
    pub retrying: i64,
    pub failed: i64,
    pub paused: i64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.ready += other.ready;
        self.scheduled += other.scheduled;
        self.running += other.running;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.paused += other.paused;
    }

    /// In the column order of `job_stats()`.
    pub fn values(&self) -> [i64; 6] {
        [
            self.ready,
            self.scheduled,
            self.running,
            self.retrying,
            self.failed,
            self.paused,
        ]
    }
}

/// A row of `app_jobs.job_queues`.
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub queue_name: String,
    pub job_count: i32,
    pub locked_by: Option<String>,
    pub locked_at: Option<String>,
    pub paused_at: Option<String>,
}

impl Queue {
    fn from_row(row: &postgres::Row) -> Option<Queue> {
        Some(Queue {
            queue_name: row.get::<_, Option<String>>(0)?,
            job_count: row.get::<_, Option<i32>>(1).unwrap_or(0),
            locked_by: row.get(2),
            locked_at: row.get(3),
            paused_at: row.get(4),
        })
    }
}

/// What `job_stats` counted, and the paused queues (also those without jobs).
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub rows: Vec<StatsRow>,
    pub paused_queues: Vec<Queue>,
}

/// Which jobs an operation applies to: every given filter (AND); none =
/// every job the operation may touch.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub ids: Vec<i64>,
    pub task: Option<String>,
    pub queue: Option<String>,
    /// A tenant, as uuid text (checked by [`check_uuid`]).
    pub database_id: Option<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
            && self.task.is_none()
            && self.queue.is_none()
            && self.database_id.is_none()
    }

    fn ids(&self) -> Option<Vec<i64>> {
        (!self.ids.is_empty()).then(|| self.ids.clone())
    }
}

/// `s` is a uuid in its text form (8-4-4-4-12 hex digits).
pub fn check_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `30d`, `12h`, `90m`, `45s`, `2w` as a PostgreSQL interval; anything else
/// is handed to PostgreSQL as it is (`'30 days'`, `'1 mon'`), as a parameter.
pub fn interval_text(duration: &str) -> String {
    let d = duration.trim();
    let split = d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len());
    let (number, unit) = d.split_at(split);
    let unit = match unit {
        "s" => "seconds",
        "m" | "min" => "minutes",
        "h" => "hours",
        "d" => "days",
        "w" => "weeks",
        _ => return d.to_owned(),
    };
    if number.is_empty() {
        return d.to_owned();
    }
    format!("{number} {unit}")
}

const PAUSED_JOIN: &str =
    "LEFT JOIN app_jobs.job_queues AS p ON p.queue_name = j.queue_name AND p.paused_at IS NOT NULL";

fn queue_columns() -> String {
    format!(
        "q.queue_name, q.job_count, q.locked_by, {}, {}",
        utc("q.locked_at"),
        utc("q.paused_at")
    )
}

/// `app_jobs.job_stats(db_id)` and the paused queues.
pub fn stats(client: &mut Client, database_id: Option<&str>) -> Result<Stats, postgres::Error> {
    let rows = client.query(
        "SELECT s.task_identifier, s.queue_name, s.ready, s.scheduled, s.running, s.retrying, \
                s.failed, s.paused, extract(epoch FROM s.oldest_ready_age)::float8, \
                extract(epoch FROM s.longest_running)::float8 \
           FROM app_jobs.job_stats($1::text::uuid) AS s",
        &[&database_id],
    )?;
    let rows = rows
        .iter()
        .map(|r| StatsRow {
            task_identifier: r.get(0),
            queue_name: r.get(1),
            counts: Counts {
                ready: r.get(2),
                scheduled: r.get(3),
                running: r.get(4),
                retrying: r.get(5),
                failed: r.get(6),
                paused: r.get(7),
            },
            oldest_ready_age_seconds: r.get(8),
            longest_running_seconds: r.get(9),
        })
        .collect();
    let paused = client.query(
        &format!(
            "SELECT {} FROM app_jobs.job_queues AS q WHERE q.paused_at IS NOT NULL ORDER BY q.queue_name",
            queue_columns()
        ),
        &[],
    )?;
    Ok(Stats {
        rows,
        paused_queues: paused.iter().filter_map(Queue::from_row).collect(),
    })
}

/// What [`list`] shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub scope: Scope,
    /// One of [`STATES`].
    pub state: Option<String>,
    pub limit: i64,
}

/// Jobs matching `filter`, in id order, at most `filter.limit`.
pub fn list(client: &mut Client, filter: &ListFilter) -> Result<Vec<Job>, postgres::Error> {
    let sql = format!(
        "SELECT * FROM (SELECT {} FROM app_jobs.jobs AS j {PAUSED_JOIN} \
          WHERE ($1::bigint[] IS NULL OR j.id = ANY ($1::bigint[])) \
            AND ($2::text IS NULL OR j.task_identifier = $2::text) \
            AND ($3::text IS NULL OR j.queue_name = $3::text) \
            AND ($4::text IS NULL OR j.database_id = $4::text::uuid)) AS s \
          WHERE $5::text IS NULL OR s.state = $5::text \
          ORDER BY s.id LIMIT $6::bigint",
        job_columns(&format!("{STATE_SQL} AS state"))
    );
    let scope = &filter.scope;
    let params: [&(dyn ToSql + Sync); 6] = [
        &scope.ids(),
        &scope.task,
        &scope.queue,
        &scope.database_id,
        &filter.state,
        &filter.limit,
    ];
    Ok(client
        .query(&sql, &params)?
        .iter()
        .map(Job::from_row)
        .collect())
}

/// One job, or None.
pub fn show(client: &mut Client, id: i64) -> Result<Option<Job>, postgres::Error> {
    let filter = ListFilter {
        scope: Scope {
            ids: vec![id],
            ..Scope::default()
        },
        state: None,
        limit: 1,
    };
    Ok(list(client, &filter)?.into_iter().next())
}

/// How many jobs an operation would touch now (for the confirmation
/// question; the operation itself decides again, under its row locks).
pub fn preview(client: &mut Client, operation: &Operation) -> Result<i64, postgres::Error> {
    let (states, older_than): (&[&str], Option<String>) = match operation {
        Operation::Retry { .. } => (&["failed"], None),
        Operation::Cancel { .. } => (
            &["ready", "scheduled", "retrying", "failed", "paused"],
            None,
        ),
        Operation::Purge { older_than, .. } => (&["failed"], Some(older_than.clone())),
    };
    let scope = operation.scope();
    let states: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let sql = format!(
        "SELECT count(*) FROM (SELECT {STATE_SQL} AS state FROM app_jobs.jobs AS j {PAUSED_JOIN} \
          WHERE ($1::bigint[] IS NULL OR j.id = ANY ($1::bigint[])) \
            AND ($2::text IS NULL OR j.task_identifier = $2::text) \
            AND ($3::text IS NULL OR j.queue_name = $3::text) \
            AND ($4::text IS NULL OR j.database_id = $4::text::uuid) \
            AND ($6::text IS NULL OR j.updated_at < now() - $6::text::interval)) AS s \
          WHERE s.state = ANY ($5::text[])"
    );
    let params: [&(dyn ToSql + Sync); 6] = [
        &scope.ids(),
        &scope.task,
        &scope.queue,
        &scope.database_id,
        &states,
        &older_than,
    ];
    Ok(client.query_one(&sql, &params)?.get(0))
}

/// A mutating operation on jobs.
#[derive(Debug, Clone)]
pub enum Operation {
    /// `retry_failed_jobs`; `run_at` as timestamptz text, None = now.
    Retry {
        scope: Scope,
        run_at: Option<String>,
    },
    /// `cancel_jobs` (a scope is required).
    Cancel { scope: Scope },
    /// `purge_failed_jobs`; `older_than` as interval text.
    Purge { scope: Scope, older_than: String },
}

impl Operation {
    pub fn scope(&self) -> &Scope {
        match self {
            Operation::Retry { scope, .. }
            | Operation::Cancel { scope }
            | Operation::Purge { scope, .. } => scope,
        }
    }

    /// The SQL function it calls.
    pub fn function(&self) -> &'static str {
        match self {
            Operation::Retry { .. } => "app_jobs.retry_failed_jobs",
            Operation::Cancel { .. } => "app_jobs.cancel_jobs",
            Operation::Purge { .. } => "app_jobs.purge_failed_jobs",
        }
    }
}

/// Run `operation`; the rows it retried (with their state now) or deleted
/// (state `deleted`), in id order.
pub fn apply(client: &mut Client, operation: &Operation) -> Result<Vec<Job>, postgres::Error> {
    let scope = operation.scope();
    let (ids, task, queue, db) = (&scope.ids(), &scope.task, &scope.queue, &scope.database_id);
    let (call, state, params): (&str, &str, Vec<&(dyn ToSql + Sync)>) = match operation {
        Operation::Retry { run_at, .. } => (
            "app_jobs.retry_failed_jobs(job_ids := $1::bigint[], task_identifier := $2::text, \
             queue_name := $3::text, db_id := $4::text::uuid, run_at := $5::text::timestamptz)",
            STATE_SQL,
            vec![ids, task, queue, db, run_at],
        ),
        Operation::Cancel { .. } => (
            "app_jobs.cancel_jobs(job_ids := $1::bigint[], task_identifier := $2::text, \
             queue_name := $3::text, db_id := $4::text::uuid)",
            "'deleted'",
            vec![ids, task, queue, db],
        ),
        Operation::Purge { older_than, .. } => (
            "app_jobs.purge_failed_jobs(older_than := $5::text::interval, job_ids := $1::bigint[], \
             task_identifier := $2::text, queue_name := $3::text, db_id := $4::text::uuid)",
            "'deleted'",
            vec![ids, task, queue, db, older_than],
        ),
    };
    let sql = format!(
        "SELECT {} FROM {call} AS j {PAUSED_JOIN} ORDER BY j.id",
        job_columns(state)
    );
    Ok(client
        .query(&sql, &params)?
        .iter()
        .map(Job::from_row)
        .collect())
}

/// `app_jobs.pause_queue(queue)`: the queue's row.
pub fn pause(client: &mut Client, queue: &str) -> Result<Option<Queue>, postgres::Error> {
    let row = client.query_one(
        &format!(
            "SELECT {} FROM app_jobs.pause_queue($1::text) AS q",
            queue_columns()
        ),
        &[&queue],
    )?;
    Ok(Queue::from_row(&row))
}

/// `app_jobs.resume_queue(queue)`: the queue's row, None for a queue with
/// neither jobs nor a pause.
pub fn resume(client: &mut Client, queue: &str) -> Result<Option<Queue>, postgres::Error> {
    let row = client.query_one(
        &format!(
            "SELECT {} FROM app_jobs.resume_queue($1::text) AS q",
            queue_columns()
        ),
        &[&queue],
    )?;
    Ok(Queue::from_row(&row))
}
