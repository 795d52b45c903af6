//! The server crashes and restarts under a running queue: 8 workers (4 with
//! `get_job`/`complete_job`/`fail_job`, 4 with the batch functions
//! `get_jobs`/`complete_claimed_jobs`/`fail_claimed_jobs`), a producer and
//! an admin thread work on a few thousand jobs (named queues, job keys,
//! retries, permanent failures) when one backend is killed with SIGKILL.
//! PostgreSQL then terminates every session, runs crash recovery and
//! accepts connections again. Every thread reconnects and carries on;
//! workers come back under new worker ids.
//!
//! The jobs that were locked at the crash stay locked by the dead workers'
//! ids. Half of the restarted workers give them back at once with
//! `release_jobs(old id)`; the other half leave them to the lock expiry
//! (`get_job(..., job_expiry => '2 seconds')`). At the end nothing is
//! lost, counted by id against what the clients saw committed, no job or
//! named queue was held by two live workers at once, `job_queues` is exact
//! and unlocked, the indexes match the heap (amcheck) and `jobsctl verify`
//! passes.
//!
//! No named queue runs a job while a dead worker's expired job of it is
//! still locked (the defect this test found: an expired queue lock was
//! released while its job's row was busy; see docs/reliability.md).
//!
//! In a test binary of its own, because the crash hits every session of
//! the cluster. Figures and the command are in `docs/reliability.md`:
//!
//! ```sh
//! cargo test --test queue_crash -- --nocapture
//! ```

mod common;

use common::pg::{self, TestDb};
use common::queue::{TENANT, connection_lost, load_average, ok};
use common::{
    AbortOnPanic, Rng, assert_job_queues_exact_and_unlocked, describe_sql_error, jobsctl_on,
    sqlstate,
};
use postgres::{Client, Row, Statement};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

const WORKERS: usize = 8;
/// Jobs added before the workers start.
const INITIAL_JOBS: i32 = 3000;
/// The server is crashed once the workers have completed this many jobs.
const CRASH_AFTER_COMPLETIONS: usize = 1000;
/// Transactions the producer commits after the crash before it stops.
const PRODUCER_BATCHES_AFTER_CRASH: usize = 40;
/// Jobs per `get_jobs` call of the batch workers.
const BATCH_SIZE: i32 = 10;
/// The lock expiry the workers pass to `get_job`/`get_jobs` once every
/// restarted worker has done its crash recovery; before that, the default.
const SHORT_EXPIRY: &str = "2 seconds";
const SHORT_EXPIRY_DURATION: Duration = Duration::from_secs(2);
const DEFAULT_EXPIRY: &str = "4 hours";
const DEFAULT_EXPIRY_DURATION: Duration = Duration::from_secs(4 * 3600);

/// Sessions that died right after they were opened (see `connect`).
static STILLBORN_SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// A deadlock or serialization failure: the transaction was rolled back
/// and may be run again.
fn retryable(error: &postgres::Error) -> bool {
    matches!(sqlstate(error).as_deref(), Some("40P01" | "40001"))
}

/// Run `f` again while it fails with a retryable error, counting retries.
fn retrying<T>(
    retries: &mut usize,
    mut f: impl FnMut() -> Result<T, postgres::Error>,
) -> Result<T, postgres::Error> {
    loop {
        match f() {
            Err(error) if retryable(&error) => *retries += 1,
            result => return result,
        }
    }
}

/// One connection attempt to the test database, without panicking.
fn try_connect(db: &TestDb) -> Result<Client, postgres::Error> {
    let server = pg::server();
    let mut config = postgres::Config::new();
    config
        .host(&server.host)
        .port(server.port)
        .user(&server.user)
        .dbname(&db.name)
        .connect_timeout(Duration::from_secs(5));
    if let Some(password) = &server.password {
        config.password(password);
    }
    config.connect(postgres::NoTls)
}

/// Connect, retrying every 20 ms while the server is down or recovering.
///
/// A session can also die right after it was opened: the killed backend's
/// client sees its connection close at once, and when it reconnects before
/// the postmaster has noticed the death, it gets a new backend that the
/// crash handling then terminates with all the others. So the session's
/// first query is part of the attempt.
///
/// Every session must commit synchronously (the database's setting): with
/// the test cluster's `synchronous_commit = off`, a commit that returned
/// OK could be lost in the crash, and the test would count it wrongly.
fn connect(db: &TestDb, deadline: Instant) -> Client {
    loop {
        let error = match try_connect(db) {
            Ok(mut client) => match client.query_one("SHOW synchronous_commit", &[]) {
                Ok(row) => {
                    let synchronous_commit: String = row.get(0);
                    assert_eq!(
                        synchronous_commit, "on",
                        "a session without synchronous commit"
                    );
                    return client;
                }
                Err(error) if connection_lost(&error) => {
                    STILLBORN_SESSIONS.fetch_add(1, Ordering::SeqCst);
                    error
                }
                Err(error) => panic!("SHOW synchronous_commit: {}", describe_sql_error(&error)),
            },
            Err(error) => error,
        };
        assert!(
            Instant::now() < deadline,
            "no connection to the test database before the deadline: {}",
            describe_sql_error(&error)
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A job as `get_job`/`get_jobs` hand it out.
#[derive(Debug, Clone)]
struct Claim {
    id: i64,
    queue: Option<String>,
    task: String,
    last_error: Option<String>,
    /// The claim's `now()` in the server.
    locked_at: SystemTime,
}

const CLAIM_COLUMNS: &str = "id, queue_name, task_identifier, last_error, locked_at";
const END_COLUMNS: &str = "id, superseded, attempts, max_attempts";

impl Claim {
    fn from_row(row: &Row) -> Claim {
        Claim {
            id: row.get(0),
            queue: row.get(1),
            task: row.get(2),
            last_error: row.get(3),
            locked_at: row.get(4),
        }
    }
}

/// The worker named by `lock of worker W (since T) expired`, the
/// `last_error` that the lock expiry leaves on a job.
fn expired_holder(last_error: &Option<String>) -> Option<String> {
    let rest = last_error.as_deref()?.strip_prefix("lock of worker ")?;
    rest.ends_with(" expired")
        .then(|| rest.split(' ').next().unwrap_or_default().to_owned())
}

fn age(now: SystemTime, since: SystemTime) -> Duration {
    now.duration_since(since).unwrap_or_default()
}

/// Who holds what, client-side: a claim is entered after `get_job`
/// returned (it is committed), and leaves before `complete_job`/`fail_job`
/// is called (the job is still held). If the queue is right, a job or a
/// named queue in here is never claimed by anybody else, unless its lock
/// had expired for the claiming call (then the holder was too slow and has
/// lost it, by design).
#[derive(Default)]
struct Ledger {
    jobs: HashMap<i64, (String, Option<String>, SystemTime)>,
    queues: HashMap<String, i64>,
    problems: Vec<String>,
    /// Live holders whose lock expired under them (a thread stalled for
    /// longer than the expiry).
    preempted: usize,
}

impl Ledger {
    fn claim(&mut self, claim: &Claim, worker: &str, expiry: Duration) {
        if let Some((holder, _, since)) = self.jobs.get(&claim.id).cloned() {
            if age(claim.locked_at, since) > expiry {
                self.preempted += 1;
                self.release(claim.id);
            } else {
                self.problems.push(format!(
                    "job {} claimed by {worker} while {holder} held it (claimed {:?} earlier)",
                    claim.id,
                    age(claim.locked_at, since)
                ));
            }
        }
        if let Some(queue) = &claim.queue
            && let Some(&other) = self.queues.get(queue)
        {
            let (holder, _, since) = self.jobs[&other].clone();
            if age(claim.locked_at, since) > expiry {
                self.preempted += 1;
                self.release(other);
            } else {
                self.problems.push(format!(
                    "job {} of queue {queue} claimed by {worker} while {holder} held job {other} of it",
                    claim.id
                ));
            }
        }
        self.jobs.insert(
            claim.id,
            (worker.to_owned(), claim.queue.clone(), claim.locked_at),
        );
        if let Some(queue) = &claim.queue {
            self.queues.insert(queue.clone(), claim.id);
        }
    }

    fn release(&mut self, id: i64) {
        if let Some((_, Some(queue), _)) = self.jobs.remove(&id)
            && self.queues.get(&queue) == Some(&id)
        {
            self.queues.remove(&queue);
        }
    }

    /// The worker's attempt ends (or its session died).
    fn end(&mut self, id: i64, worker: &str) {
        if self
            .jobs
            .get(&id)
            .is_some_and(|(holder, _, _)| holder == worker)
        {
            self.release(id);
        }
    }
}

/// State shared by the threads of the test.
struct Shared<'a> {
    db: &'a TestDb,
    deadline: Instant,
    ledger: Mutex<Ledger>,
    /// The backend of each worker's current connection.
    pids: Mutex<Vec<i32>>,
    completions: AtomicUsize,
    /// Slots holding their `hold-<slot>` job, waiting for the crash.
    holding: Mutex<BTreeSet<usize>>,
    /// Set once the server accepts connections again after the kill.
    crashed: AtomicBool,
    /// Set once the jobs locked at the crash are recorded: restarted
    /// workers recover only after it.
    snapshot_taken: AtomicBool,
    /// Restarted workers that have done their crash recovery.
    recovered: AtomicUsize,
    producer_done: AtomicBool,
    workers_done: AtomicUsize,
    abort: AtomicBool,
}

impl Shared<'_> {
    /// Every restarted worker has released its old id's jobs (or decided to
    /// leave them to the expiry): from now on the workers use the short
    /// expiry, so it recovers only the jobs of the odd slots' dead ids.
    fn short_expiry(&self) -> bool {
        self.recovered.load(Ordering::SeqCst) >= WORKERS
    }

    fn wait_for(&self, flag: &AtomicBool, what: &str) {
        while !flag.load(Ordering::SeqCst) {
            assert!(
                !self.abort.load(Ordering::SeqCst),
                "aborted waiting for {what}"
            );
            assert!(
                Instant::now() < self.deadline,
                "deadline waiting for {what}"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum End {
    Complete,
    Fail,
}

#[derive(Debug, Default)]
struct WorkerReport {
    claims: usize,
    /// (job, worker id): completions that returned the job, so committed.
    completed: Vec<(i64, String)>,
    /// Failures to be retried.
    failed: usize,
    failed_for_good: Vec<i64>,
    /// Failures of a superseded job: deleted instead of retried.
    dropped: Vec<i64>,
    /// (job, worker id) of completions and failures cut by the crash:
    /// committed or not, nobody can tell.
    complete_in_doubt: Vec<(i64, String)>,
    fail_in_doubt: Vec<i64>,
    /// Jobs the worker held (claim acknowledged, end not sent) at the crash.
    held_at_crash: usize,
    /// (job, holder) of claims whose last_error says the holder's lock
    /// expired.
    expired_claims: Vec<(i64, String)>,
    /// (old worker id, [(job, superseded)]) released after the restart.
    released: Vec<(String, Vec<(i64, bool)>)>,
    /// Completions or failures refused because the lock had expired.
    refused_after_expiry: usize,
    reconnect: Vec<Duration>,
    retries: usize,
    /// (queue, claimed job, other job, its holder): after the crash, a job
    /// of a named queue claimed while another job of that queue was still
    /// locked by a dead worker id. Dead locks only go away, so the two
    /// were locked at once: the known defect "an expired queue lock is
    /// released while its job's lock is not" (docs/reliability.md, fixed).
    /// Must stay empty.
    overtaken: Vec<(String, i64, i64, String)>,
}

struct Conn {
    client: Client,
    claim: Statement,
    complete: Statement,
    fail: Statement,
}

struct Worker<'a> {
    shared: &'a Shared<'a>,
    slot: usize,
    /// `get_jobs` + `complete_claimed_jobs`/`fail_claimed_jobs`, else the
    /// single-job functions.
    batch: bool,
    /// After the crash, `release_jobs(old id)`; else the dead id's jobs are
    /// left to the lock expiry.
    release: bool,
    tasks: Vec<String>,
    generation: u32,
    id: String,
    conn: Option<Conn>,
    rng: Rng,
    /// Claimed, end not sent yet.
    holding: Vec<Claim>,
    /// The end call in progress.
    ending: Option<(End, Vec<Claim>)>,
    /// Set when the session is lost: (when, jobs it held or was ending).
    lost: Option<(Instant, Vec<i64>)>,
    report: WorkerReport,
}

impl Worker<'_> {
    fn run(mut self) -> WorkerReport {
        let _guard = AbortOnPanic(&self.shared.abort);
        loop {
            if self.shared.abort.load(Ordering::SeqCst) {
                return self.report;
            }
            assert!(
                Instant::now() < self.shared.deadline,
                "{}: jobs still left at the deadline",
                self.id
            );
            match self.step() {
                Ok(true) => {}
                Ok(false) => return self.report,
                Err(error) if connection_lost(&error) => self.lose_session(),
                Err(error) => panic!("{}: {}", self.id, describe_sql_error(&error)),
            }
        }
    }

    /// One claim and its ends; false when every job is finished.
    fn step(&mut self) -> Result<bool, postgres::Error> {
        if self.conn.is_none() {
            self.connect()?;
        }
        let shared = self.shared;
        let short = shared.short_expiry();
        let (expiry, expiry_duration) = if short {
            (SHORT_EXPIRY, SHORT_EXPIRY_DURATION)
        } else {
            (DEFAULT_EXPIRY, DEFAULT_EXPIRY_DURATION)
        };
        let conn = self.conn.as_mut().unwrap();
        let (id, tasks) = (&self.id, &self.tasks);
        let rows = retrying(&mut self.report.retries, || {
            conn.client.query(&conn.claim, &[id, tasks, &expiry])
        })?;
        let claims: Vec<Claim> = rows.iter().map(Claim::from_row).collect();
        if claims.is_empty() {
            if short && shared.producer_done.load(Ordering::SeqCst) {
                let left: i64 = conn
                    .client
                    .query_one(
                        "SELECT count(*) FROM app_jobs.jobs \
                          WHERE attempts < max_attempts OR locked_at IS NOT NULL",
                        &[],
                    )?
                    .get(0);
                if left == 0 {
                    return Ok(false);
                }
            }
            thread::sleep(Duration::from_millis(10));
            return Ok(true);
        }
        self.report.claims += claims.len();
        {
            let mut ledger = shared.ledger.lock().unwrap();
            for claim in &claims {
                ledger.claim(claim, &self.id, expiry_duration);
            }
        }
        for claim in &claims {
            if let Some(holder) = expired_holder(&claim.last_error) {
                self.report.expired_claims.push((claim.id, holder));
            }
        }
        self.holding = claims.clone();
        if shared.crashed.load(Ordering::SeqCst) {
            let conn = self.conn.as_mut().unwrap();
            for claim in &claims {
                let Some(queue) = &claim.queue else { continue };
                for row in conn.client.query(
                    "SELECT id, locked_by FROM app_jobs.jobs \
                      WHERE queue_name = $1 AND id <> $2 AND locked_by LIKE '%-g0'",
                    &[queue, &claim.id],
                )? {
                    self.report
                        .overtaken
                        .push((queue.clone(), claim.id, row.get(0), row.get(1)));
                }
            }
        }

        // A hold job is kept until the server has crashed: the crash then
        // hits jobs held by workers of every kind.
        if claims.iter().any(|c| c.task.starts_with("hold-"))
            && !shared.crashed.load(Ordering::SeqCst)
        {
            shared.holding.lock().unwrap().insert(self.slot);
            shared.wait_for(&shared.crashed, "the crash");
        }
        thread::sleep(Duration::from_micros(self.rng.below(300)));

        let (mut complete, mut fail) = (Vec::new(), Vec::new());
        for claim in claims {
            let failing = match claim.task.as_str() {
                "poison" => true,
                "work" => self.rng.below(100) < 8,
                _ => false,
            };
            if failing {
                fail.push(claim);
            } else {
                complete.push(claim);
            }
        }
        if self.batch {
            self.end(End::Complete, complete)?;
            self.end(End::Fail, fail)?;
        } else {
            for claim in complete {
                self.end(End::Complete, vec![claim])?;
            }
            for claim in fail {
                self.end(End::Fail, vec![claim])?;
            }
        }
        Ok(true)
    }

    /// Report the end of an attempt for `jobs`, which this worker holds.
    fn end(&mut self, kind: End, jobs: Vec<Claim>) -> Result<(), postgres::Error> {
        if jobs.is_empty() {
            return Ok(());
        }
        {
            let mut ledger = self.shared.ledger.lock().unwrap();
            for job in &jobs {
                ledger.end(job.id, &self.id);
            }
        }
        self.holding
            .retain(|held| !jobs.iter().any(|j| j.id == held.id));
        self.ending = Some((kind, jobs.clone()));
        let conn = self.conn.as_mut().unwrap();
        let id = &self.id;
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        let message = if jobs.iter().any(|j| j.task == "poison") {
            "poison"
        } else {
            "attempt failed"
        };
        let batch = self.batch;
        let rows = retrying(&mut self.report.retries, || match (kind, batch) {
            (End::Complete, true) => conn.client.query(&conn.complete, &[id, &ids]),
            (End::Fail, true) => conn.client.query(&conn.fail, &[id, &ids, &message]),
            (End::Complete, false) => conn.client.query(&conn.complete, &[id, &ids[0]]),
            (End::Fail, false) => conn.client.query(&conn.fail, &[id, &ids[0], &message]),
        })?;
        self.ending = None;
        let mut returned = HashSet::new();
        for row in &rows {
            let (job, superseded, attempts, max_attempts): (i64, bool, i32, i32) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            returned.insert(job);
            match kind {
                End::Complete => {
                    self.report.completed.push((job, self.id.clone()));
                    self.shared.completions.fetch_add(1, Ordering::SeqCst);
                }
                End::Fail if superseded => self.report.dropped.push(job),
                End::Fail if attempts >= max_attempts => self.report.failed_for_good.push(job),
                End::Fail => self.report.failed += 1,
            }
        }
        // Refused: only a lock that had expired may have been taken away.
        for job in jobs.iter().filter(|j| !returned.contains(&j.id)) {
            let now: SystemTime = conn.client.query_one("SELECT now()", &[])?.get(0);
            assert!(
                self.shared.short_expiry() && age(now, job.locked_at) > SHORT_EXPIRY_DURATION,
                "{}: {kind:?} of job {} refused, its lock taken {:?} ago has not expired",
                self.id,
                job.id,
                age(now, job.locked_at)
            );
            self.report.refused_after_expiry += 1;
        }
        Ok(())
    }

    /// The session died: what was held or being ended is out of this
    /// worker's hands now.
    fn lose_session(&mut self) {
        self.conn = None;
        let mut stale = Vec::new();
        let mut ledger = self.shared.ledger.lock().unwrap();
        for job in self.holding.drain(..) {
            ledger.end(job.id, &self.id);
            self.report.held_at_crash += 1;
            stale.push(job.id);
        }
        if let Some((kind, jobs)) = self.ending.take() {
            for job in jobs {
                match kind {
                    End::Complete => self
                        .report
                        .complete_in_doubt
                        .push((job.id, self.id.clone())),
                    End::Fail => self.report.fail_in_doubt.push(job.id),
                }
                stale.push(job.id);
            }
        }
        self.lost = Some((Instant::now(), stale));
    }

    /// (Re)connect; after a crash, come back under a new worker id and
    /// recover the old id's jobs.
    fn connect(&mut self) -> Result<(), postgres::Error> {
        loop {
            match self.open() {
                Ok(()) => break,
                // a session opened just before the crash handling began
                Err(error) if connection_lost(&error) => {
                    STILLBORN_SESSIONS.fetch_add(1, Ordering::SeqCst);
                }
                Err(error) => return Err(error),
            }
        }
        self.recover()
    }

    /// A session with the worker's statements prepared; after a lost
    /// session, one that is known to have been opened after the crash.
    fn open(&mut self) -> Result<(), postgres::Error> {
        let shared = self.shared;
        let mut client = connect(shared.db, shared.deadline);
        shared.pids.lock().unwrap()[self.slot] =
            client.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        let (claim, complete, fail) = if self.batch {
            (
                format!(
                    "SELECT {CLAIM_COLUMNS} FROM app_jobs.get_jobs($1, $2, $3::text::interval, {BATCH_SIZE})"
                ),
                format!("SELECT {END_COLUMNS} FROM app_jobs.complete_claimed_jobs($1, $2)"),
                format!("SELECT {END_COLUMNS} FROM app_jobs.fail_claimed_jobs($1, $2, $3)"),
            )
        } else {
            (
                format!(
                    "SELECT {CLAIM_COLUMNS} FROM app_jobs.get_job($1, $2, $3::text::interval) WHERE id IS NOT NULL"
                ),
                format!(
                    "SELECT {END_COLUMNS} FROM app_jobs.complete_job($1, $2) WHERE id IS NOT NULL"
                ),
                format!(
                    "SELECT {END_COLUMNS} FROM app_jobs.fail_job($1, $2, $3) WHERE id IS NOT NULL"
                ),
            )
        };
        let mut conn = Conn {
            claim: client.prepare(&claim)?,
            complete: client.prepare(&complete)?,
            fail: client.prepare(&fail)?,
            client,
        };
        if let Some((lost_at, _)) = &self.lost {
            // The jobs locked at the crash are recorded before anybody
            // recovers. By then the crash has been dealt with: a session
            // opened before that is dead, one that answers now is not.
            shared.wait_for(&shared.snapshot_taken, "the snapshot of the locked jobs");
            conn.client.simple_query("SELECT 1")?;
            self.report.reconnect.push(lost_at.elapsed());
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// After a lost session: come back under a new worker id, and recover
    /// the old id's jobs with release_jobs, or leave them to the expiry.
    fn recover(&mut self) -> Result<(), postgres::Error> {
        let shared = self.shared;
        let Some((_, stale)) = self.lost.take() else {
            return Ok(());
        };
        let conn = self.conn.as_mut().unwrap();
        let old = std::mem::replace(
            &mut self.id,
            format!("w{}-g{}", self.slot, self.generation + 1),
        );
        self.generation += 1;

        // A lost worker's locks are not the new id's.
        let completed = conn.client.query(
            "SELECT id FROM app_jobs.complete_claimed_jobs($1, $2)",
            &[&self.id, &stale],
        )?;
        let failed = conn.client.query(
            "SELECT id FROM app_jobs.fail_claimed_jobs($1, $2, 'stale')",
            &[&self.id, &stale],
        )?;
        assert!(
            completed.is_empty() && failed.is_empty(),
            "{} completed or failed jobs of {old}: {stale:?}",
            self.id
        );

        if self.release {
            // What release_jobs finds, locked so that nobody changes it
            // meanwhile (a keyed add_job could supersede a job).
            let mut tx = conn.client.transaction()?;
            let before: Vec<(i64, bool, i32)> = tx
                .query(
                    "SELECT id, superseded, attempts FROM app_jobs.jobs \
                      WHERE locked_at IS NOT NULL AND locked_by = $1 ORDER BY id FOR UPDATE",
                    &[&old],
                )?
                .iter()
                .map(|row| (row.get(0), row.get(1), row.get(2)))
                .collect();
            tx.execute("SELECT app_jobs.release_jobs($1)", &[&old])?;
            let ids: Vec<i64> = before.iter().map(|b| b.0).collect();
            let after: HashMap<i64, (bool, i32)> = tx
                .query(
                    "SELECT id, locked_at IS NULL AND locked_by IS NULL, attempts \
                       FROM app_jobs.jobs WHERE id = ANY($1)",
                    &[&ids],
                )?
                .iter()
                .map(|row| (row.get(0), (row.get(1), row.get(2))))
                .collect();
            let queues_left: i64 = tx
                .query_one(
                    "SELECT count(*) FROM app_jobs.job_queues WHERE locked_by = $1",
                    &[&old],
                )?
                .get(0);
            tx.commit()?;
            for (id, superseded, attempts) in &before {
                if *superseded {
                    assert_eq!(
                        after.get(id),
                        None,
                        "superseded job {id} of {old} not deleted"
                    );
                } else {
                    assert_eq!(
                        after.get(id),
                        Some(&(true, attempts - 1)),
                        "job {id} of {old}: unlocked, the attempt undone"
                    );
                }
            }
            assert_eq!(queues_left, 0, "queues still locked by {old}");
            self.report.released.push((
                old,
                before
                    .iter()
                    .map(|(id, superseded, _)| (*id, *superseded))
                    .collect(),
            ));
        }
        shared.recovered.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Debug, Default)]
struct ProducerReport {
    /// Ids whose adding transaction's COMMIT returned OK.
    added: Vec<i64>,
    /// Ids added by a transaction whose COMMIT was cut by the crash.
    in_doubt: Vec<i64>,
    /// Keyed adds that returned an id already known: a pending job was
    /// replaced (or a permanently failed one revived).
    replaced: Vec<i64>,
    transactions: usize,
    reconnect: Vec<Duration>,
    retries: usize,
}

/// Adds jobs while the workers run, across the crash: batches of 8 with
/// `add_jobs` (at most one named queue per transaction, so that it cannot
/// deadlock with a worker; see docs/reliability.md) and keyed `add_job`s,
/// each in its own transaction, that reuse the keys of the initial jobs.
fn producer(shared: &Shared, known: &HashSet<i64>) -> ProducerReport {
    let _guard = AbortOnPanic(&shared.abort);
    let mut report = ProducerReport::default();
    let mut known = known.clone();
    let mut rng = Rng(0x9a0d);
    let mut client: Option<Client> = None;
    let mut lost_at: Option<Instant> = None;
    let (mut batch, mut after_crash) = (0u64, 0usize);
    while after_crash < PRODUCER_BATCHES_AFTER_CRASH {
        if shared.abort.load(Ordering::SeqCst) {
            break;
        }
        assert!(Instant::now() < shared.deadline, "producer: deadline");
        if client.is_none() {
            client = Some(connect(shared.db, shared.deadline));
            if let Some(at) = lost_at.take() {
                report.reconnect.push(at.elapsed());
            }
        }
        let c = client.as_mut().unwrap();
        batch += 1;
        let queue = (batch % 3 == 0).then(|| format!("q-{}", batch % 4));
        let specs: Vec<serde_json::Value> = (0..8)
            .map(|i| {
                let poison = rng.below(40) == 0;
                serde_json::json!({
                    "db_id": TENANT,
                    "identifier": if poison { "poison" } else { "work" },
                    "payload": {"batch": batch, "i": i},
                    "queue_name": if i % 2 == 0 { queue.clone() } else { None },
                    "max_attempts": if poison { 2 } else if rng.below(10) == 0 { 3 } else { 25 },
                    "priority": rng.below(3),
                })
            })
            .collect();
        let specs = serde_json::Value::Array(specs).to_string();
        // a job key of the initial jobs (n % 7 = 0), in the queue it had
        let n = 7 * (1 + rng.below(INITIAL_JOBS as u64 / 7));
        let key_queue = n.is_multiple_of(6).then(|| format!("q-{}", (n / 6) % 4));
        let key = format!("key-{n}");
        let mut pending: Vec<i64> = Vec::new();
        let result = (|| -> Result<(), postgres::Error> {
            for keyed in [false, true] {
                if keyed && batch % 2 == 1 {
                    continue;
                }
                pending.clear();
                let ids: Vec<i64> = retrying(&mut report.retries, || {
                    let mut tx = c.transaction()?;
                    let rows = if keyed {
                        tx.query(
                            &format!(
                                "SELECT id FROM app_jobs.add_job('{TENANT}', 'work', '{{}}', \
                                 job_key := $1, queue_name := $2)"
                            ),
                            &[&key, &key_queue],
                        )?
                    } else {
                        tx.query(
                            "SELECT id FROM app_jobs.add_jobs($1::text::jsonb)",
                            &[&specs],
                        )?
                    };
                    pending = rows.iter().map(|row| row.get(0)).collect();
                    tx.commit()?;
                    Ok(std::mem::take(&mut pending))
                })?;
                for id in &ids {
                    if !known.insert(*id) {
                        report.replaced.push(*id);
                    }
                }
                report.added.extend(ids);
                report.transactions += 1;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                if shared.crashed.load(Ordering::SeqCst) {
                    after_crash += 1;
                }
            }
            Err(error) if connection_lost(&error) => {
                // Cut before the COMMIT: rolled back. Cut at the COMMIT
                // (pending is only non-empty then): nobody knows.
                report.in_doubt.append(&mut pending);
                client = None;
                lost_at = Some(Instant::now());
            }
            Err(error) => panic!("producer: {}", describe_sql_error(&error)),
        }
        thread::sleep(Duration::from_millis(10));
    }
    shared.producer_done.store(true, Ordering::SeqCst);
    report
}

/// Retries wait for a backoff of exp(attempts) seconds; every 100 ms this
/// admin thread pulls them forward with `reschedule_jobs`, so that the run
/// time measures work, not backoff.
fn janitor(shared: &Shared) -> (u64, usize) {
    let _guard = AbortOnPanic(&shared.abort);
    let mut client: Option<Client> = None;
    let (mut rescheduled, mut reconnects) = (0u64, 0usize);
    while shared.workers_done.load(Ordering::SeqCst) < WORKERS
        && !shared.abort.load(Ordering::SeqCst)
    {
        assert!(Instant::now() < shared.deadline, "janitor: deadline");
        let c = client.get_or_insert_with(|| connect(shared.db, shared.deadline));
        let mut retries = 0;
        match retrying(&mut retries, || {
            c.query_one(
                "SELECT count(*) FROM app_jobs.reschedule_jobs(ARRAY(\
                   SELECT id FROM app_jobs.jobs \
                    WHERE locked_at IS NULL AND attempts > 0 AND attempts < max_attempts \
                      AND run_at > now() LIMIT 1000), run_at := now())",
                &[],
            )
        }) {
            Ok(row) => rescheduled += row.get::<_, i64>(0) as u64,
            Err(error) if connection_lost(&error) => {
                client = None;
                reconnects += 1;
            }
            Err(error) => panic!("janitor: {}", describe_sql_error(&error)),
        }
        thread::sleep(Duration::from_millis(100));
    }
    (rescheduled, reconnects)
}

/// A job locked at the crash.
#[derive(Debug, Clone)]
struct Locked {
    id: i64,
    holder: String,
    queue: Option<String>,
}

/// The worker id's slot: `w<slot>-g<generation>`.
fn slot_of(worker: &str) -> usize {
    worker[1..worker.find('-').unwrap()].parse().unwrap()
}

#[test]
fn a_server_crash_under_a_running_queue_loses_no_job() {
    if std::env::var_os("JOBSCTL_TEST_PGHOST").is_some() {
        eprintln!("queue_crash: skipped, it would crash the external server JOBSCTL_TEST_PGHOST");
        return;
    }
    let began = Instant::now();
    let load_before = load_average();
    let db = TestDb::new("queue_crash");
    // The test cluster runs with synchronous_commit off for speed; a crash
    // would then lose commits, which is not what production servers do.
    // Every session of this database (the workers' included: `connect`
    // checks it) commits synchronously.
    ok(
        db.client().batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET synchronous_commit = on",
            db.name
        )),
        "synchronous_commit",
    );
    jobsctl_on(&db).arg("deploy").assert().success();

    let deadline = Instant::now() + Duration::from_secs(180);
    let mut admin = connect(&db, deadline);
    // Every deletion of a job, in the deleting transaction: what the
    // server really did, to hold the clients' records against.
    ok(
        admin.batch_execute(
            "CREATE TABLE public.deleted_jobs (
               id bigint NOT NULL, superseded boolean NOT NULL, locked_by text,
               attempts int NOT NULL, max_attempts int NOT NULL, queue_name text,
               deleted_at timestamptz NOT NULL);
             CREATE FUNCTION public.log_deleted_job() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               INSERT INTO public.deleted_jobs
               VALUES (OLD.id, OLD.superseded, OLD.locked_by, OLD.attempts, OLD.max_attempts, OLD.queue_name, now());
               RETURN NULL;
             END $$;
             CREATE TRIGGER log_deleted_job AFTER DELETE ON app_jobs.jobs
               FOR EACH ROW EXECUTE FUNCTION public.log_deleted_job();",
        ),
        "the deletion log",
    );
    // n = 1..3000: one in six in one of 4 named queues, one in seven with a
    // job key, one in fifty poison (fails every attempt, 2 attempts), one in
    // ten with 3 attempts, priorities 0-2
    let initial: Vec<i64> = ok(
        admin.query(
            &format!(
                "SELECT j.id FROM generate_series(1, $1::int) AS n, LATERAL app_jobs.add_job(\
                   '{TENANT}', CASE WHEN n % 50 = 7 THEN 'poison' ELSE 'work' END, json_build_object('n', n), \
                   job_key := CASE WHEN n % 7 = 0 THEN 'key-' || n END, \
                   queue_name := CASE WHEN n % 6 = 0 THEN 'q-' || (n / 6) % 4 END, \
                   max_attempts := CASE WHEN n % 50 = 7 THEN 2 WHEN n % 10 = 3 THEN 3 ELSE 25 END, \
                   priority := n % 3) AS j"
            ),
            &[&INITIAL_JOBS],
        ),
        "the initial jobs",
    )
    .iter()
    .map(|row| row.get(0))
    .collect();
    let known: HashSet<i64> = initial.iter().copied().collect();
    assert_eq!(known.len(), INITIAL_JOBS as usize);

    let shared = Shared {
        db: &db,
        deadline,
        ledger: Mutex::new(Ledger::default()),
        pids: Mutex::new(vec![0; WORKERS]),
        completions: AtomicUsize::new(0),
        holding: Mutex::new(BTreeSet::new()),
        crashed: AtomicBool::new(false),
        snapshot_taken: AtomicBool::new(false),
        recovered: AtomicUsize::new(0),
        producer_done: AtomicBool::new(false),
        workers_done: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
    };
    // slot: 0, 1, 4, 5 single-job functions, 2, 3, 6, 7 batches; even
    // slots release their old id's jobs after the crash, odd slots leave
    // them to the expiry
    let crash = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|slot| {
                let worker = Worker {
                    shared: &shared,
                    slot,
                    batch: slot % 4 >= 2,
                    release: slot % 2 == 0,
                    tasks: vec!["work".into(), "poison".into(), format!("hold-{slot}")],
                    generation: 0,
                    id: format!("w{slot}-g0"),
                    conn: None,
                    rng: Rng(0xc0ffee + slot as u64),
                    holding: Vec::new(),
                    ending: None,
                    lost: None,
                    report: WorkerReport::default(),
                };
                let shared = &shared;
                s.spawn(move || {
                    let report = worker.run();
                    shared.workers_done.fetch_add(1, Ordering::SeqCst);
                    report
                })
            })
            .collect();
        let producer = s.spawn(|| producer(&shared, &known));
        let janitor = s.spawn(|| janitor(&shared));
        let _guard = AbortOnPanic(&shared.abort);

        // Once enough work is done, a hold job for slots 0-3 (single and
        // batch, release and expiry), three of them in named queues, each
        // with a job key; they are claimed first (priority -1), and kept
        // until the crash.
        while shared.completions.load(Ordering::SeqCst) < CRASH_AFTER_COMPLETIONS {
            assert!(!shared.abort.load(Ordering::SeqCst), "a thread failed");
            assert!(Instant::now() < deadline, "no progress before the crash");
            thread::sleep(Duration::from_millis(5));
        }
        // One at a time: a batch worker waiting for the crash may hold the
        // head of any queue, so a later hold job could never be claimed.
        let add_hold = |admin: &mut Client, slot: usize| -> i64 {
            let queue = (slot < 3).then(|| format!("q-{slot}"));
            let task = format!("hold-{slot}");
            ok(
                admin.query_one(
                    &format!(
                        "SELECT id FROM app_jobs.add_job('{TENANT}', $1, job_key := $1, \
                         queue_name := $2, priority := -1)"
                    ),
                    &[&task, &queue],
                ),
                "hold job",
            )
            .get(0)
        };
        let mut holds = BTreeMap::new();
        for slot in 0..4 {
            let id = add_hold(&mut admin, slot);
            holds.insert(slot, id);
            while !shared.holding.lock().unwrap().contains(&slot) {
                assert!(!shared.abort.load(Ordering::SeqCst), "a thread failed");
                assert!(Instant::now() < deadline, "hold job {id} was not claimed");
                thread::sleep(Duration::from_millis(1));
            }
        }

        // SIGKILL of one working worker's backend: the postmaster
        // terminates every session, runs crash recovery and accepts
        // connections again.
        let victim_slot = 4 + (shared.completions.load(Ordering::SeqCst) % 4);
        let victim = shared.pids.lock().unwrap()[victim_slot];
        let completions_at_crash = shared.completions.load(Ordering::SeqCst);
        let killed_at = Instant::now();
        let killed = std::process::Command::new("kill")
            .args(["-9", &victim.to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "kill -9 {victim}");
        // The postmaster has begun the crash handling once this session is
        // gone (it signals every backend at once, then refuses connections
        // until all of them have exited and recovery is done).
        loop {
            match admin.simple_query("SELECT 1") {
                Ok(_) => {
                    assert!(Instant::now() < deadline, "the server did not crash");
                    thread::sleep(Duration::from_millis(1));
                }
                Err(error) => {
                    assert!(connection_lost(&error), "{}", describe_sql_error(&error));
                    break;
                }
            }
        }
        let mut admin = connect(&db, deadline);
        let back_after = killed_at.elapsed();
        // Transactions that began before this moment ran before the crash.
        let restarted_at: SystemTime = ok(admin.query_one("SELECT now()", &[]), "now()").get(0);

        // The jobs and queues locked at the crash: by the dead workers'
        // ids (workers of generation 1 may already claim meanwhile).
        let locked: Vec<Locked> = ok(
            admin.query(
                "SELECT id, locked_by, queue_name FROM app_jobs.jobs \
                  WHERE locked_by LIKE '%-g0' ORDER BY id",
                &[],
            ),
            "jobs locked at the crash",
        )
        .iter()
        .map(|row| Locked {
            id: row.get(0),
            holder: row.get(1),
            queue: row.get(2),
        })
        .collect();
        let locked_queues: Vec<(String, String)> = ok(
            admin.query(
                "SELECT queue_name, locked_by FROM app_jobs.job_queues \
                  WHERE locked_by LIKE '%-g0' ORDER BY 1",
                &[],
            ),
            "queues locked at the crash",
        )
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
        let mismatched: Option<String> = ok(
            admin.query_one(
                "SELECT string_agg(format('%s: job_count %s, real %s', \
                          coalesce(q.queue_name, r.queue_name), q.job_count, r.n), '; ') \
                   FROM app_jobs.job_queues AS q \
                   FULL JOIN (SELECT queue_name, count(*) AS n FROM app_jobs.jobs \
                               WHERE queue_name IS NOT NULL GROUP BY 1) AS r \
                     ON r.queue_name = q.queue_name \
                  WHERE q.job_count IS DISTINCT FROM r.n",
                &[],
            ),
            "job_count after recovery",
        )
        .get(0);
        // Two of the dead workers' jobs lose their key to a new job: the
        // restarted worker's release_jobs (slot 0) and the expiry (slot 1)
        // must delete them instead of running them again.
        let mut superseding = Vec::new();
        for slot in [0, 1] {
            let id = add_hold(&mut admin, slot);
            assert_ne!(id, holds[&slot], "a running job's key makes a new job");
            let row = ok(
                admin.query_one(
                    "SELECT superseded, key FROM app_jobs.jobs WHERE id = $1",
                    &[&holds[&slot]],
                ),
                "superseded",
            );
            let old: (bool, Option<String>) = (row.get(0), row.get(1));
            assert_eq!(old, (true, None), "hold job of slot {slot} superseded");
            superseding.push(id);
        }
        shared.snapshot_taken.store(true, Ordering::SeqCst);
        shared.crashed.store(true, Ordering::SeqCst);
        assert_eq!(
            mismatched, None,
            "job_queues.job_count after crash recovery"
        );

        let reports: Vec<WorkerReport> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let produced = producer.join().unwrap();
        let janitor = janitor.join().unwrap();
        (
            holds,
            superseding,
            restarted_at,
            victim_slot,
            completions_at_crash,
            back_after,
            locked,
            locked_queues,
            reports,
            produced,
            janitor,
        )
    });
    let (
        holds,
        superseding,
        restarted_at,
        victim_slot,
        completions_at_crash,
        back_after,
        locked,
        locked_queues,
        reports,
        produced,
        (rescheduled, janitor_reconnects),
    ) = crash;
    let seconds = began.elapsed().as_secs_f64();
    let mut admin = connect(&db, deadline);

    let ledger = shared.ledger.into_inner().unwrap();
    assert!(
        ledger.problems.is_empty(),
        "held by two workers at once:\n{}",
        ledger.problems.join("\n")
    );

    // --- what the clients saw -------------------------------------------
    let mut added: HashSet<i64> = initial.iter().copied().collect();
    added.extend(&produced.added);
    added.extend(holds.values());
    added.extend(&superseding);
    let added_in_doubt: HashSet<i64> = produced.in_doubt.iter().copied().collect();
    let replaced: HashSet<i64> = produced.replaced.iter().copied().collect();
    let mut completed: HashMap<i64, String> = HashMap::new();
    let mut completed_twice = Vec::new();
    let mut complete_in_doubt: HashMap<i64, Vec<String>> = HashMap::new();
    let mut failed_for_good: HashSet<i64> = HashSet::new();
    let mut fail_in_doubt: HashSet<i64> = HashSet::new();
    let mut dropped: HashSet<i64> = HashSet::new();
    let mut expired_claims: Vec<(i64, String)> = Vec::new();
    let mut released: HashMap<String, Vec<(i64, bool)>> = HashMap::new();
    let (mut claims, mut failed, mut held_at_crash, mut refused, mut retries) =
        (0, 0, 0, 0, produced.retries);
    let mut reconnect: Vec<Duration> = produced.reconnect.clone();
    let mut overtaken = Vec::new();
    for report in &reports {
        for (id, worker) in &report.completed {
            if completed.insert(*id, worker.clone()).is_some() {
                completed_twice.push(*id);
            }
        }
        for (id, worker) in &report.complete_in_doubt {
            complete_in_doubt
                .entry(*id)
                .or_default()
                .push(worker.clone());
        }
        failed_for_good.extend(&report.failed_for_good);
        fail_in_doubt.extend(&report.fail_in_doubt);
        dropped.extend(&report.dropped);
        expired_claims.extend(report.expired_claims.iter().cloned());
        for (old, jobs) in &report.released {
            released.insert(old.clone(), jobs.clone());
        }
        claims += report.claims;
        failed += report.failed;
        held_at_crash += report.held_at_crash;
        refused += report.refused_after_expiry;
        retries += report.retries;
        reconnect.extend(&report.reconnect);
        overtaken.extend(report.overtaken.iter().cloned());
    }
    assert!(
        overtaken.is_empty(),
        "a named queue ran a job while a dead worker's job of it was still locked \
         (queue, claimed job, locked job, its holder): {overtaken:?}"
    );
    assert!(
        completed_twice.is_empty(),
        "completed twice: {completed_twice:?}"
    );
    assert_eq!(
        reports.iter().filter(|r| r.reconnect.len() == 1).count(),
        WORKERS,
        "every worker lost its session once and came back"
    );
    assert!(
        !produced.reconnect.is_empty(),
        "the producer lost its session"
    );

    // --- what the server holds ------------------------------------------
    // (superseded, locked_by, deleted by a transaction begun before the crash)
    let mut deleted: HashMap<i64, (bool, Option<String>, bool)> = HashMap::new();
    for row in ok(
        admin.query(
            "SELECT id, superseded, locked_by, deleted_at < $1 FROM public.deleted_jobs",
            &[&restarted_at],
        ),
        "deleted jobs",
    ) {
        assert!(
            deleted
                .insert(row.get(0), (row.get(1), row.get(2), row.get(3)))
                .is_none(),
            "job {} deleted twice",
            row.get::<_, i64>(0)
        );
    }
    let left: HashMap<i64, (bool, i32, i32, Option<String>)> = ok(
        admin.query(
            "SELECT id, locked_at IS NOT NULL OR locked_by IS NOT NULL, attempts, max_attempts, last_error \
               FROM app_jobs.jobs",
            &[],
        ),
        "jobs left",
    )
    .iter()
    .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3), row.get(4))))
    .collect();

    // Only permanently failed jobs are left, unlocked.
    for (id, (locked, attempts, max_attempts, _)) in &left {
        assert!(!locked, "job {id} is still locked");
        assert!(
            attempts >= max_attempts,
            "job {id} is neither done nor failed"
        );
    }
    // No job whose completion committed is still there; each was deleted
    // by the worker that completed it.
    for (id, worker) in &completed {
        assert!(
            !left.contains_key(id),
            "completed job {id} is still in the table"
        );
        assert_eq!(
            deleted.get(id).and_then(|d| d.1.as_ref()),
            Some(worker),
            "completed job {id} was not deleted under {worker}'s lock"
        );
    }
    // Nothing lost: every added job was deleted or is permanently failed.
    let lost: Vec<&i64> = added
        .iter()
        .filter(|id| !deleted.contains_key(id) && !left.contains_key(id))
        .collect();
    assert!(lost.is_empty(), "jobs lost: {lost:?}");
    // Nothing from nowhere: every job the server had was added by a client.
    let unknown: Vec<&i64> = deleted
        .keys()
        .chain(left.keys())
        .filter(|id| !added.contains(id) && !added_in_doubt.contains(id))
        .collect();
    assert!(unknown.is_empty(), "jobs nobody added: {unknown:?}");
    let doubtful_adds_committed = added_in_doubt
        .iter()
        .filter(|id| !added.contains(id) && (deleted.contains_key(id) || left.contains_key(id)))
        .count();

    // Every deletion is explained: completed (acknowledged, or cut by the
    // crash but committed before it, under the cut worker's lock), or a
    // superseded job deleted instead of being retried.
    let (mut completed_unacknowledged, mut superseded_dropped) = (0, 0);
    for (id, (superseded, locked_by, before_crash)) in &deleted {
        if completed.contains_key(id) {
            continue;
        }
        if *before_crash
            && complete_in_doubt
                .get(id)
                .is_some_and(|workers| locked_by.as_ref().is_some_and(|l| workers.contains(l)))
        {
            completed_unacknowledged += 1;
        } else if *superseded {
            superseded_dropped += 1;
        } else {
            panic!("job {id} was deleted by nobody's completion (locked by {locked_by:?})");
        }
    }
    assert!(
        dropped
            .iter()
            .all(|id| deleted.get(id).is_some_and(|d| d.0))
    );

    // --- the jobs locked at the crash -----------------------------------
    let by_id: HashMap<i64, &Locked> = locked.iter().map(|l| (l.id, l)).collect();
    for (slot, id) in &holds {
        assert_eq!(
            by_id.get(id).map(|l| l.holder.as_str()),
            Some(format!("w{slot}-g0").as_str()),
            "hold job {id} of slot {slot} at the crash"
        );
    }
    for (queue, holder) in &locked_queues {
        assert!(
            locked
                .iter()
                .any(|l| l.queue.as_ref() == Some(queue) && &l.holder == holder),
            "queue {queue} locked by {holder} without a job of it"
        );
    }
    // the superseded hold jobs were deleted by release_jobs (slot 0) and by
    // the expiry (slot 1), under the dead ids' locks; their successors ran
    for slot in [0, 1] {
        assert_eq!(
            deleted.get(&holds[&slot]),
            Some(&(true, Some(format!("w{slot}-g0")), false)),
            "superseded hold job of slot {slot}"
        );
        assert!(
            completed.contains_key(&superseding[slot]),
            "the new hold-{slot} job"
        );
    }
    // release_jobs: exactly the even slots' dead ids' jobs, at once
    let (to_release, to_expire): (Vec<&Locked>, Vec<&Locked>) = locked
        .iter()
        .partition(|l| slot_of(&l.holder).is_multiple_of(2));
    let released_ids: BTreeSet<i64> = released.values().flatten().map(|(id, _)| *id).collect();
    assert_eq!(
        released_ids,
        to_release.iter().map(|l| l.id).collect::<BTreeSet<i64>>(),
        "release_jobs(old id) returned the jobs its old id held at the crash"
    );
    assert_eq!(released.len(), WORKERS / 2);
    let released_superseded = released.values().flatten().filter(|(_, s)| *s).count();
    // the expiry: the odd slots' dead ids' jobs, each claimed again with
    // the expiry's last_error, dropped (superseded), left permanently
    // failed at max_attempts, or replaced by a keyed add_job after it
    let (mut expired_reclaimed, mut expired_dropped, mut expired_failed, mut expired_replaced) =
        (0, 0, 0, 0);
    for job in &to_expire {
        if expired_claims
            .iter()
            .any(|(id, holder)| *id == job.id && *holder == job.holder)
        {
            expired_reclaimed += 1;
        } else if deleted
            .get(&job.id)
            .is_some_and(|(s, l, _)| *s && l.as_ref() == Some(&job.holder))
        {
            expired_dropped += 1;
        } else if left
            .get(&job.id)
            .is_some_and(|(_, _, _, e)| expired_holder(e).as_ref() == Some(&job.holder))
        {
            expired_failed += 1;
        } else if replaced.contains(&job.id) {
            expired_replaced += 1;
        } else {
            panic!(
                "job {} of {} (locked at the crash) was not recovered by the expiry",
                job.id, job.holder
            );
        }
    }
    // Live workers that stalled for longer than the expiry (reported).
    let expired_live = expired_claims
        .iter()
        .filter(|(_, holder)| !holder.ends_with("-g0"))
        .count();

    // Every permanently failed job failed for good in a worker's hands
    // (acknowledged or cut by the crash) or by the expiry of its dead lock.
    for (id, (_, _, _, last_error)) in &left {
        let by_expiry = expired_holder(last_error).is_some_and(|h| h.ends_with("-g0"));
        assert!(
            failed_for_good.contains(id) || fail_in_doubt.contains(id) || by_expiry,
            "job {id} is permanently failed, but nobody failed it: {last_error:?}"
        );
    }
    let revived: Vec<&i64> = failed_for_good
        .iter()
        .filter(|id| !left.contains_key(id) && !replaced.contains(id))
        .collect();
    assert!(
        revived.is_empty(),
        "permanently failed jobs gone: {revived:?}"
    );

    // job_queues: exact, no queue locked, no row of an empty queue
    assert_job_queues_exact_and_unlocked(&mut admin);
    // one job per key
    let duplicate_keys: i64 = ok(
        admin.query_one(
            "SELECT count(*) FROM (SELECT 1 FROM app_jobs.jobs WHERE key IS NOT NULL \
                                    GROUP BY database_id, key HAVING count(*) > 1) AS d",
            &[],
        ),
        "keys",
    )
    .get(0);
    assert_eq!(duplicate_keys, 0, "two jobs with one key");

    // The indexes match the heap after crash recovery (amcheck, when the
    // server has it).
    let amcheck = match admin.batch_execute("CREATE EXTENSION IF NOT EXISTS amcheck") {
        Ok(()) => {
            let indexes: Vec<String> = ok(
                admin.query(
                    "SELECT c.oid::regclass::text FROM pg_class AS c JOIN pg_am AS a ON a.oid = c.relam \
                      WHERE c.relkind = 'i' AND c.relnamespace = 'app_jobs'::regnamespace \
                        AND a.amname = 'btree' ORDER BY 1",
                    &[],
                ),
                "indexes",
            )
            .iter()
            .map(|row| row.get(0))
            .collect();
            for index in &indexes {
                ok(
                    admin.execute(
                        "SELECT bt_index_check($1::text::regclass, heapallindexed => true)",
                        &[index],
                    ),
                    &format!("bt_index_check({index})"),
                );
            }
            format!("{} indexes checked", indexes.len())
        }
        Err(error) => format!("amcheck unavailable ({})", describe_sql_error(&error)),
    };

    // The deployment itself is intact.
    ok(
        admin.batch_execute(
            "DROP TRIGGER log_deleted_job ON app_jobs.jobs; DROP FUNCTION public.log_deleted_job()",
        ),
        "drop the deletion log",
    );
    jobsctl_on(&db).arg("verify").assert().success();

    let jobs_added = added.len() + doubtful_adds_committed;
    let completed_jobs = completed.len() + completed_unacknowledged;
    assert_eq!(
        jobs_added,
        completed_jobs + superseded_dropped + left.len(),
        "added = completed + superseded dropped + permanently failed"
    );
    let reconnect_ms: Vec<u128> = reconnect.iter().map(|d| d.as_millis()).collect();
    let dead_ids = locked
        .iter()
        .map(|l| &l.holder)
        .collect::<HashSet<_>>()
        .len();
    eprintln!(
        "queue crash: {jobs_added} jobs added ({} before the workers started, {} by the producer in {} \
         transactions of which {} keyed adds replaced a pending job, {} hold jobs), {WORKERS} workers, \
         {claims} claims, {failed} retried failures; {completed_jobs} completed ({} acknowledged + \
         {completed_unacknowledged} committed but cut off from their acknowledgement by the crash), {} \
         permanently failed, {superseded_dropped} superseded and deleted; lost 0.\n  \
         crash: SIGKILL of worker w{victim_slot}'s backend after {completions_at_crash} completions; the server \
         accepted connections {:.2} s after the kill; threads were back {}-{} ms after losing their session \
         (the janitor reconnected {janitor_reconnects} time(s); sessions that died right after \
         opening: {}).\n  \
         in the workers' hands when their sessions died: {held_at_crash} jobs claimed and not yet reported, {} \
         completions and {} failures sent but not acknowledged ({completed_unacknowledged} of the completions \
         had committed); producer transactions cut at COMMIT: {} jobs ({doubtful_adds_committed} committed).\n  \
         locked at the crash: {} jobs by {dead_ids} dead worker ids ({} in named queues), {} queues locked; \
         recovered by release_jobs(old id): {} ({released_superseded} superseded, deleted); by the \
         {SHORT_EXPIRY} expiry: {} (claimed again {expired_reclaimed}, superseded and deleted \
         {expired_dropped}, permanently failed at max_attempts {expired_failed}, replaced by a keyed add \
         {expired_replaced}).\n  \
         claims of a queue's job while a dead worker's job of it was still locked (known defect): {} {:?}.\n  \
         live locks lost to the expiry: {} ({expired_live} recovered, {refused} reports refused); \
         deadlock retries: {retries}; {rescheduled} retries pulled forward; {amcheck}; {seconds:.1} s; \
         load average before {load_before}, after {}",
        initial.len(),
        produced.added.len(),
        produced.transactions,
        replaced.len(),
        holds.len() + superseding.len(),
        completed.len(),
        left.len(),
        back_after.as_secs_f64(),
        reconnect_ms.iter().min().unwrap(),
        reconnect_ms.iter().max().unwrap(),
        STILLBORN_SESSIONS.load(Ordering::SeqCst),
        complete_in_doubt.len(),
        fail_in_doubt.len(),
        added_in_doubt.len(),
        locked.len(),
        locked.iter().filter(|l| l.queue.is_some()).count(),
        locked_queues.len(),
        to_release.len(),
        to_expire.len(),
        overtaken.len(),
        overtaken,
        ledger.preempted,
        load_average()
    );
}
