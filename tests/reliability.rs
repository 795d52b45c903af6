//! Reliability of the `app_jobs` queue under faults and load, measured:
//!
//! - workers whose connections are terminated (`pg_terminate_backend`) while
//!   they hold jobs: the jobs come back after the lock expiry (the
//!   `job_expiry` argument of `get_job`, or the `app_jobs.job_expiry`
//!   setting), or at once with `release_jobs(worker_id)`;
//! - a connection cut between `get_job` and `complete_job`: the job is not
//!   lost, comes back after the expiry, is completed exactly once by another
//!   worker, and the stale worker (same id or a new one) is shut out;
//! - a worker killed inside its own transaction: the claim is rolled back;
//! - workers killed at random points while they work, with an effect table
//!   written in the completing transaction: every job's effect exactly once;
//! - a long `REPEATABLE READ` transaction holding the xmin horizon while
//!   workers burn down jobs: throughput before, during and after (figures
//!   only), every job done exactly once (asserted);
//! - a soak with 16 workers, random failures, retries, permanent failures,
//!   named queues and producers adding jobs meanwhile: nothing lost, nothing
//!   held by two workers at once, `job_queues.job_count` exact.
//!
//! The figures and the commands that reproduce them are in
//! `docs/reliability.md`. The default `cargo test` runs a 5,000-job soak;
//! the full one is ignored and sized by `JOBSCTL_SOAK_JOBS`:
//!
//! ```sh
//! cargo test --release --test reliability -- --ignored soak --nocapture
//! JOBSCTL_SOAK_JOBS=250000 JOBSCTL_SOAK_WORKERS=32 cargo test --release --test reliability -- --ignored soak --nocapture
//! ```
//!
//! Every test deploys the embedded workspace with the real binary into its
//! own database of the test cluster.

mod common;

use common::pg::TestDb;
use common::queue::{
    Expiry, TENANT, add_numbered, complete, count, deployed, fail, get_job, load_average, ok,
    terminated,
};
use common::{
    AbortOnPanic, Rng, assert_job_queues_exact_and_unlocked, backend_pid, describe_sql_error,
    terminate_backend,
};
use postgres::Client;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A whole number from the environment (`_` separators allowed), or
/// `default` when the variable is unset.
fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: not a whole number")),
        Err(_) => default,
    }
}

/// `(locked_by, attempts)` of a job, `None` when it is gone.
fn job_state(client: &mut Client, id: i64) -> Option<(Option<String>, i32)> {
    ok(
        client.query_opt(
            "SELECT locked_by, attempts FROM app_jobs.jobs WHERE id = $1",
            &[&id],
        ),
        "job state",
    )
    .map(|row| (row.get(0), row.get(1)))
}

/// `(queue_name, locked_by)` of every `job_queues` row, in name order.
fn queue_locks(client: &mut Client) -> Vec<(String, Option<String>)> {
    ok(
        client.query(
            "SELECT queue_name, locked_by FROM app_jobs.job_queues ORDER BY 1",
            &[],
        ),
        "job_queues",
    )
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect()
}

/// Add one job of task `work` (optionally in a named queue); its id.
fn add(client: &mut Client, queue: Option<&str>) -> i64 {
    ok(
        client.query_one(
            &format!("SELECT id FROM app_jobs.add_job('{TENANT}', 'work', queue_name := $1::text)"),
            &[&queue],
        ),
        "add_job",
    )
    .get(0)
}

/// Terminate the backend of `client` from `admin`, and check that the
/// client sees its connection gone.
fn cut(admin: &mut Client, client: &mut Client, pid: i32) {
    assert!(
        terminate_backend(admin, pid),
        "backend {pid} was not there to terminate"
    );
    let error = client
        .simple_query("SELECT 1")
        .expect_err("the terminated connection still answers");
    assert!(
        terminated(&error),
        "not a lost connection: {}",
        describe_sql_error(&error)
    );
}

// ---------------------------------------------------------------------------
// 1. Workers killed while holding jobs: back after the expiry.

/// Three workers claim a job each (one of them the head of the named queue
/// `mail`), and their backends are terminated. The jobs stay locked by the
/// dead workers (not lost), nobody gets them before the expiry, and a
/// rescuer gets each of them after it, with its attempt counted and
/// `last_error` naming the dead worker. The reconnected dead worker can
/// neither complete nor fail its old job once it is re-claimed; the queue
/// stays serial throughout.
fn killed_workers_jobs_come_back_after_the_expiry(db: &TestDb, expiry: Expiry, seconds: u64) {
    let mut admin = db.client();
    // two jobs in the queue `mail` first, then four without a queue
    let mail = [add(&mut admin, Some("mail")), add(&mut admin, Some("mail"))];
    let free: Vec<i64> = (0..4).map(|_| add(&mut admin, None)).collect();

    // taken before the first claim: no lock is older than this
    let started = Instant::now();
    let mut victims = Vec::new();
    for v in 0..3 {
        let mut client = db.client();
        let pid = backend_pid(&mut client);
        let worker = format!("victim-{v}");
        let job = get_job(&mut client, &worker, expiry).expect("a job for the victim");
        assert_eq!(job.attempts, 1);
        victims.push((worker, job.id, client, pid));
    }
    let held: Vec<i64> = victims.iter().map(|v| v.1).collect();
    assert_eq!(
        held,
        [mail[0], free[0], free[1]],
        "claims in (priority, run_at, id) order, mail[1] behind its queue"
    );
    for (_, _, client, pid) in &mut victims {
        cut(&mut admin, client, *pid);
    }

    // Not lost: the claims were committed before the cut, so the jobs are
    // there, locked by the dead workers, and so is the queue.
    for (worker, id, _, _) in &victims {
        assert_eq!(
            job_state(&mut admin, *id),
            Some((Some(worker.clone()), 1)),
            "job {id} of {worker}"
        );
    }
    assert_eq!(
        queue_locks(&mut admin),
        [("mail".to_owned(), Some("victim-0".to_owned()))]
    );

    let mut rescuer = db.client();
    if let Expiry::Setting = expiry {
        let configured: String = ok(
            rescuer.query_one("SELECT app_jobs.job_expiry()::text", &[]),
            "job_expiry()",
        )
        .get(0);
        assert_eq!(configured, format!("00:00:0{seconds}"));
    }
    // the dead workers come back with their ids, on new connections
    let mut stale: Vec<(String, Client)> = victims
        .into_iter()
        .map(|(worker, _, _, _)| (worker, db.client()))
        .collect();

    let mut order = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    while order.len() < 6 {
        assert!(
            Instant::now() < deadline,
            "only {order:?} came back within {} s",
            seconds + 30
        );
        let Some(job) = get_job(&mut rescuer, "rescuer", expiry) else {
            thread::sleep(Duration::from_millis(100));
            continue;
        };
        if let Some(v) = held.iter().position(|&id| id == job.id) {
            let (worker, client) = &mut stale[v];
            assert!(
                started.elapsed() >= Duration::from_secs(seconds),
                "job {} of {worker} handed out {:?} after it was claimed, before its {seconds} s expiry",
                job.id,
                started.elapsed()
            );
            assert_eq!(job.attempts, 2, "the killed attempt stays counted");
            let last_error = job.last_error.clone().unwrap_or_default();
            assert!(
                last_error.contains(&format!("lock of worker {worker} ")),
                "last_error: {last_error}"
            );
            // the reconnected dead worker is shut out now
            assert_eq!(complete(client, worker, job.id), None, "stale complete");
            assert_eq!(fail(client, worker, job.id, "stale"), None, "stale fail");
            assert_eq!(job_state(client, job.id), Some((Some("rescuer".into()), 2)));
        } else {
            assert_eq!(job.attempts, 1);
        }
        if job.queue.is_some() {
            assert_eq!(
                queue_locks(&mut admin),
                [("mail".to_owned(), Some("rescuer".to_owned()))],
                "the rescuer holds the queue of job {}",
                job.id
            );
        }
        assert_eq!(complete(&mut rescuer, "rescuer", job.id), Some(job.id));
        assert_eq!(
            complete(&mut rescuer, "rescuer", job.id),
            None,
            "completed once"
        );
        order.push(job.id);
    }
    let position = |id: i64| order.iter().position(|&o| o == id).unwrap();
    assert!(
        position(mail[0]) < position(mail[1]),
        "the queue stays in order: {order:?}"
    );
    eprintln!(
        "killed workers, {expiry:?}: jobs came back in the order {order:?} \
         (held by the dead workers: {held:?}); {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(count(&mut admin, "SELECT count(*) FROM app_jobs.jobs"), 0);
    assert_eq!(queue_locks(&mut admin), []);
}

#[test]
fn killed_workers_jobs_come_back_after_the_job_expiry_argument() {
    let db = deployed("killed_expiry_argument");
    killed_workers_jobs_come_back_after_the_expiry(&db, Expiry::Argument("2 seconds"), 2);
}

#[test]
fn killed_workers_jobs_come_back_after_the_app_jobs_job_expiry_setting() {
    let db = deployed("killed_expiry_setting");
    // for every session of the database, as an operator configures it
    ok(
        db.client().batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET app_jobs.job_expiry = '2 seconds'",
            db.name
        )),
        "set app_jobs.job_expiry",
    );
    killed_workers_jobs_come_back_after_the_expiry(&db, Expiry::Setting, 2);
}

// ---------------------------------------------------------------------------
// 2. release_jobs returns a killed worker's jobs at once.

#[test]
fn release_jobs_returns_a_killed_workers_jobs_at_once() {
    let db = deployed("killed_release");
    let mut admin = db.client();
    let q1 = add(&mut admin, Some("billing"));
    let n1 = add(&mut admin, None);
    let n2 = add(&mut admin, None);
    let q2 = add(&mut admin, Some("billing"));

    // a worker with a fixed id claims three jobs and is killed
    let mut fixed = db.client();
    let pid = backend_pid(&mut fixed);
    let claimed: Vec<i64> = (0..3)
        .map(|_| {
            get_job(&mut fixed, "worker-fixed", Expiry::Default)
                .unwrap()
                .id
        })
        .collect();
    assert_eq!(claimed, [q1, n1, n2]);
    cut(&mut admin, &mut fixed, pid);

    // with the default 4 hour expiry nobody gets them (q2 waits for its queue)
    let mut other = db.client();
    assert_eq!(get_job(&mut other, "other", Expiry::Default), None);
    for id in [q1, n1, n2] {
        assert_eq!(
            job_state(&mut admin, id),
            Some((Some("worker-fixed".into()), 1))
        );
    }

    // the worker restarts with its id and releases what it held
    let mut restarted = db.client();
    let released = Instant::now();
    ok(
        restarted.batch_execute("SELECT app_jobs.release_jobs('worker-fixed')"),
        "release_jobs",
    );
    for id in [q1, n1, n2, q2] {
        assert_eq!(
            job_state(&mut admin, id),
            Some((None, 0)),
            "job {id} is free, the killed attempt undone"
        );
    }
    assert_eq!(
        queue_locks(&mut admin),
        [("billing".to_owned(), None)],
        "the queue is unlocked"
    );

    // at once, not after an expiry: the other worker gets them all
    let mut order = Vec::new();
    while let Some(job) = get_job(&mut other, "other", Expiry::Default) {
        assert_eq!(job.attempts, 1, "job {}", job.id);
        assert_eq!(job.last_error, None, "a released job has no error: {job:?}");
        // the restarted worker cannot finish what it no longer holds
        assert_eq!(complete(&mut restarted, "worker-fixed", job.id), None);
        assert_eq!(complete(&mut other, "other", job.id), Some(job.id));
        order.push(job.id);
    }
    assert_eq!(order, [q1, n1, n2, q2]);
    assert!(
        released.elapsed() < Duration::from_secs(60),
        "released jobs came back late"
    );
    assert_eq!(count(&mut admin, "SELECT count(*) FROM app_jobs.jobs"), 0);
    assert_eq!(queue_locks(&mut admin), []);
}

// ---------------------------------------------------------------------------
// 3. A connection cut between claim and complete.

#[test]
fn a_connection_cut_between_claim_and_complete_loses_nothing_and_the_job_is_completed_once() {
    let db = deployed("cut_claim_complete");
    let mut admin = db.client();
    let job = add(&mut admin, Some("serial"));
    let next = add(&mut admin, Some("serial"));

    // worker a claims, then its backend is terminated before complete_job
    let mut a = db.client();
    let pid = backend_pid(&mut a);
    let claimed = get_job(&mut a, "worker-a", Expiry::Argument("1 second")).unwrap();
    assert_eq!((claimed.id, claimed.attempts), (job, 1));
    let started = Instant::now();
    assert!(terminate_backend(&mut admin, pid));
    let error = a
        .query_one(
            "SELECT id FROM app_jobs.complete_job('worker-a', $1)",
            &[&job],
        )
        .expect_err("complete_job on a terminated connection");
    assert!(terminated(&error), "{}", describe_sql_error(&error));

    // not lost: still there, still a's; the queue's next job waits
    assert_eq!(
        job_state(&mut admin, job),
        Some((Some("worker-a".into()), 1))
    );
    let mut b = db.client();
    assert_eq!(
        get_job(&mut b, "worker-b", Expiry::Argument("1 hour")),
        None,
        "nothing runnable while a's lock is young"
    );

    // after the expiry another worker gets it
    thread::sleep(Duration::from_millis(1100).saturating_sub(started.elapsed()));
    let again = loop {
        if let Some(again) = get_job(&mut b, "worker-b", Expiry::Argument("1 second")) {
            break again;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "job {job} never came back"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!((again.id, again.attempts), (job, 2));
    assert!(
        again
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("lock of worker worker-a ")),
        "{again:?}"
    );

    // the stale worker, back with its id or with a new one, is shut out
    let mut a_again = db.client();
    for worker in ["worker-a", "worker-a-restarted"] {
        assert_eq!(complete(&mut a_again, worker, job), None, "{worker}");
        assert_eq!(fail(&mut a_again, worker, job, "stale"), None, "{worker}");
        assert_eq!(
            get_job(&mut a_again, worker, Expiry::Default),
            None,
            "{worker} gets neither b's job nor the next of b's queue"
        );
    }
    assert_eq!(
        job_state(&mut admin, job),
        Some((Some("worker-b".into()), 2))
    );
    assert_eq!(
        queue_locks(&mut admin),
        [("serial".to_owned(), Some("worker-b".to_owned()))]
    );

    // completed exactly once, by b
    assert_eq!(complete(&mut b, "worker-b", job), Some(job));
    assert_eq!(complete(&mut b, "worker-b", job), None);
    assert_eq!(complete(&mut a_again, "worker-a", job), None);
    assert_eq!(job_state(&mut admin, job), None);

    // and the queue moves on
    let following = get_job(&mut b, "worker-b", Expiry::Argument("1 second")).unwrap();
    assert_eq!((following.id, following.attempts), (next, 1));
    assert_eq!(complete(&mut b, "worker-b", next), Some(next));
    assert_eq!(count(&mut admin, "SELECT count(*) FROM app_jobs.jobs"), 0);
    assert_eq!(queue_locks(&mut admin), []);
}

#[test]
fn a_worker_killed_inside_its_own_transaction_leaves_the_job_unclaimed() {
    let db = deployed("killed_in_transaction");
    let mut admin = db.client();
    let job = add(&mut admin, Some("tx"));

    // a worker that claims and completes in one transaction
    let mut worker = db.client();
    let pid = backend_pid(&mut worker);
    ok(worker.batch_execute("BEGIN"), "begin");
    let claimed = get_job(&mut worker, "in-tx", Expiry::Default).unwrap();
    assert_eq!(claimed.id, job);

    // meanwhile nobody else gets it (the row is locked), nor sees it claimed
    let mut other = db.client();
    assert_eq!(
        get_job(&mut other, "other", Expiry::Argument("0 seconds")),
        None
    );
    assert_eq!(job_state(&mut admin, job), Some((None, 0)));

    cut(&mut admin, &mut worker, pid);

    // the claim was rolled back: free at once, the attempt never counted
    let again = get_job(&mut other, "other", Expiry::Default).expect("the job is free");
    assert_eq!((again.id, again.attempts, again.last_error), (job, 1, None));
    assert_eq!(complete(&mut other, "other", job), Some(job));
    assert_eq!(queue_locks(&mut admin), []);
}

// ---------------------------------------------------------------------------
// 4. Workers killed at random points.

/// Where a worker was when it noticed its connection was cut.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// connecting again, releasing or reporting the old id's job
    Reconnecting,
    /// holding no job: claiming, or polling an empty queue
    Claiming,
    /// holding a claimed job whose completion was not acknowledged
    Holding,
}

#[derive(Debug, Default)]
struct ChaosStats {
    /// Connections cut, by phase: reconnecting, claiming, holding a job
    /// (between the claim and the acknowledged completion).
    cut: [u32; 3],
    completed: u32,
    /// complete_job refused: the job's lock had expired and been recovered.
    lost_lock: u32,
    /// After a cut, the old id's job reported done from the new
    /// connection: accepted (the lock was still the old id's) or refused.
    stale_accepted: u32,
    stale_refused: u32,
    /// Claims of a job whose expired lock get_job had just recovered.
    recovered: u32,
    /// Claims of a job that had been claimed before (attempts > 1).
    reruns: u32,
    releases: u32,
}

/// A worker that survives having its connection cut: it reconnects, and
/// either keeps its id and calls `release_jobs` (the documented crash
/// recovery of a worker with a fixed id), or takes a new id and reports the
/// job it was holding under the old one (which must be refused once the
/// lock was recovered). The job's effect is a row in `public.effects`,
/// written in the transaction that completes the job and rolled back when
/// `complete_job` refuses.
struct ChaosWorker<'a> {
    db: &'a TestDb,
    slot: usize,
    same_id: bool,
    worker: String,
    generation: u32,
    client: Option<Client>,
    phase: Phase,
    holding: Option<(i64, i32)>,
    pids: &'a Mutex<Vec<i32>>,
    stats: ChaosStats,
}

/// Write the effect and complete the job in one transaction; true when
/// `complete_job` accepted (and the effect is committed).
fn effect_and_complete(
    client: &mut Client,
    worker: &str,
    id: i64,
    attempt: i32,
) -> Result<bool, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "INSERT INTO public.effects (job_id, worker, attempt) VALUES ($1, $2, $3)",
        &[&id, &worker, &attempt],
    )?;
    let done: Option<i64> = tx
        .query_one(
            "SELECT id FROM app_jobs.complete_job($1, $2)",
            &[&worker, &id],
        )?
        .get(0);
    if done == Some(id) {
        tx.commit()?;
        Ok(true)
    } else {
        tx.rollback()?;
        Ok(false)
    }
}

impl ChaosWorker<'_> {
    fn run(mut self, deadline: Instant, abort: &AtomicBool) -> ChaosStats {
        let _guard = AbortOnPanic(abort);
        let mut rng = Rng::new(0xc4a0_5000 + self.slot as u64);
        loop {
            assert!(
                Instant::now() < deadline,
                "{}: jobs still left at the deadline",
                self.worker
            );
            if abort.load(Ordering::SeqCst) {
                return self.stats;
            }
            match self.step(&mut rng) {
                Ok(true) => {}
                Ok(false) => return self.stats,
                Err(error) if terminated(&error) => {
                    self.client = None;
                    let phase = match self.phase {
                        Phase::Claiming if self.holding.is_some() => Phase::Holding,
                        phase => phase,
                    };
                    self.stats.cut[phase as usize] += 1;
                }
                Err(error) => panic!(
                    "{} ({:?}): {}",
                    self.worker,
                    self.phase,
                    describe_sql_error(&error)
                ),
            }
        }
    }

    /// One claim and completion; false when no job is left at all.
    fn step(&mut self, rng: &mut Rng) -> Result<bool, postgres::Error> {
        if self.client.is_none() {
            self.phase = Phase::Reconnecting;
            let mut client = self.db.client();
            self.pids.lock().unwrap()[self.slot] = backend_pid(&mut client);
            self.client = Some(client);
            if self.generation > 0 {
                self.recover()?;
            }
            self.generation += 1;
        }
        let client = self.client.as_mut().unwrap();
        self.phase = Phase::Claiming;
        let row = client.query_one(
            "SELECT id, attempts, last_error LIKE 'lock of worker % expired' \
               FROM app_jobs.get_job($1, NULL, '1 second')",
            &[&self.worker],
        )?;
        let Some(id) = row.get::<_, Option<i64>>(0) else {
            let left: i64 = client
                .query_one("SELECT count(*) FROM app_jobs.jobs", &[])?
                .get(0);
            if left == 0 {
                return Ok(false);
            }
            // jobs of killed workers, locked until their expiry
            thread::sleep(Duration::from_millis(20));
            return Ok(true);
        };
        let attempt: i32 = row.get(1);
        self.stats.reruns += (attempt > 1) as u32;
        self.stats.recovered += row.get::<_, Option<bool>>(2).unwrap_or(false) as u32;
        self.holding = Some((id, attempt));
        thread::sleep(Duration::from_micros(500 + rng.below(2000)));
        let done = effect_and_complete(client, &self.worker, id, attempt)?;
        self.holding = None;
        if done {
            self.stats.completed += 1;
        } else {
            self.stats.lost_lock += 1;
        }
        Ok(true)
    }

    /// After a reconnection.
    fn recover(&mut self) -> Result<(), postgres::Error> {
        let client = self.client.as_mut().unwrap();
        if self.same_id {
            client.execute("SELECT app_jobs.release_jobs($1)", &[&self.worker])?;
            self.holding = None;
            self.stats.releases += 1;
        } else {
            let old = std::mem::replace(
                &mut self.worker,
                format!("chaos-{}-{}", self.slot, self.generation),
            );
            if let Some((id, attempt)) = self.holding.take() {
                if effect_and_complete(client, &old, id, attempt)? {
                    self.stats.stale_accepted += 1;
                } else {
                    self.stats.stale_refused += 1;
                }
            }
        }
        Ok(())
    }
}

#[test]
fn workers_killed_at_random_points_lose_no_job_and_apply_each_effect_exactly_once() {
    const JOBS: i32 = 1500;
    const WORKERS: usize = 8;
    const KILLS: usize = 40;
    let db = deployed("chaos");
    let mut setup = db.client();
    ok(
        setup.batch_execute(
            "CREATE TABLE public.effects (job_id bigint NOT NULL, worker text NOT NULL, attempt int NOT NULL)",
        ),
        "effects table",
    );
    // one job in five in one of three named queues
    let enqueued: HashSet<i64> = ok(
        setup.query(
            &format!(
                "SELECT j.id FROM generate_series(1, $1::int) AS n, LATERAL app_jobs.add_job('{TENANT}', 'chaos', \
                 json_build_object('n', n), queue_name := CASE WHEN n % 5 = 0 THEN 'chaos-' || n % 3 END) AS j"
            ),
            &[&JOBS],
        ),
        "enqueue",
    )
    .iter()
    .map(|row| row.get(0))
    .collect();
    assert_eq!(enqueued.len(), JOBS as usize);

    let pids = Mutex::new(vec![0; WORKERS]);
    let abort = AtomicBool::new(false);
    let finished = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(180);
    let began = Instant::now();
    let (stats, kills) = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|slot| {
                let worker = ChaosWorker {
                    db: &db,
                    slot,
                    same_id: slot % 2 == 0,
                    worker: format!("chaos-{slot}"),
                    generation: 0,
                    client: None,
                    phase: Phase::Reconnecting,
                    holding: None,
                    pids: &pids,
                    stats: ChaosStats::default(),
                };
                let (abort, finished) = (&abort, &finished);
                s.spawn(move || {
                    let stats = worker.run(deadline, abort);
                    finished.fetch_add(1, Ordering::SeqCst);
                    stats
                })
            })
            .collect();
        let killer = s.spawn(|| {
            let _guard = AbortOnPanic(&abort);
            let mut rng = Rng::new(0x4b11);
            let mut client = db.client();
            let mut kills = 0;
            while kills < KILLS
                && finished.load(Ordering::SeqCst) == 0
                && !abort.load(Ordering::SeqCst)
            {
                thread::sleep(Duration::from_millis(5 + rng.below(20)));
                let pid = pids.lock().unwrap()[rng.below(WORKERS as u64) as usize];
                // pg_terminate_backend without waiting: the worker finds out
                let terminated: bool = ok(
                    client.query_one(
                        "SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) \
                           FROM pg_stat_activity WHERE pid = $1 AND datname = current_database()",
                        &[&pid],
                    ),
                    "terminate",
                )
                .get(0);
                kills += terminated as usize;
            }
            kills
        });
        let stats: Vec<ChaosStats> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (stats, killer.join().unwrap())
    });
    let elapsed = began.elapsed();

    // every job's effect exactly once, nothing left
    let effects: Vec<(i64, i64)> = ok(
        setup.query(
            "SELECT job_id, count(*) FROM public.effects GROUP BY 1 ORDER BY 1",
            &[],
        ),
        "effects",
    )
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    let twice: Vec<&(i64, i64)> = effects.iter().filter(|(_, n)| *n != 1).collect();
    assert!(
        twice.is_empty(),
        "effects applied more than once: {twice:?}"
    );
    let done: HashSet<i64> = effects.iter().map(|(id, _)| *id).collect();
    let lost: Vec<&i64> = enqueued.difference(&done).collect();
    assert!(lost.is_empty(), "jobs without their effect: {lost:?}");
    assert_eq!(done.len(), enqueued.len());
    assert_eq!(count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"), 0);
    assert_eq!(queue_locks(&mut setup), []);

    let mut total = ChaosStats::default();
    for s in &stats {
        for (t, n) in total.cut.iter_mut().zip(s.cut) {
            *t += n;
        }
        total.completed += s.completed;
        total.lost_lock += s.lost_lock;
        total.stale_accepted += s.stale_accepted;
        total.stale_refused += s.stale_refused;
        total.recovered += s.recovered;
        total.reruns += s.reruns;
        total.releases += s.releases;
    }
    eprintln!(
        "chaos: {JOBS} jobs, {WORKERS} workers, {kills} connections terminated in {:.1} s \
         (noticed while reconnecting/claiming/holding a job: {:?}); completed {} + stale-reported {} \
         + committed but unacknowledged {} = {JOBS}; \
         stale reports refused {}, completions refused after a recovered lock {}, \
         claims of recovered jobs {}, re-runs {}, release_jobs after restart {}; load average {}",
        elapsed.as_secs_f64(),
        total.cut,
        total.completed,
        total.stale_accepted,
        i64::from(JOBS) - i64::from(total.completed + total.stale_accepted),
        total.stale_refused,
        total.lost_lock,
        total.recovered,
        total.reruns,
        total.releases,
        load_average()
    );
    // A cut that lands on the COMMIT of a completion leaves the effect
    // committed without the worker knowing: fewer acknowledgements, never
    // more.
    assert!(
        (total.completed + total.stale_accepted) as usize <= enqueued.len(),
        "more completions acknowledged than jobs"
    );
    assert!(kills >= 10, "only {kills} connections were terminated");
}

// ---------------------------------------------------------------------------
// 5. A long REPEATABLE READ transaction elsewhere.

/// Throughput of one batch of jobs burnt down by a set of workers.
#[derive(Debug)]
struct Burn {
    jobs: usize,
    seconds: f64,
    /// Jobs per second over the whole batch, the first quarter of its
    /// completions and the last quarter.
    rate: f64,
    first_quarter: f64,
    last_quarter: f64,
}

impl std::fmt::Display for Burn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} jobs in {:.2} s = {:.0} jobs/s (first quarter {:.0}/s, last quarter {:.0}/s)",
            self.jobs, self.seconds, self.rate, self.first_quarter, self.last_quarter
        )
    }
}

/// Enqueue `jobs` jobs and let `workers` workers claim and complete them
/// all; assert each was claimed once and completed by its claimer.
fn burn(db: &TestDb, jobs: i64, workers: usize) -> Burn {
    let mut setup = db.client();
    ok(
        setup.batch_execute("SET app_jobs.notify = off"),
        "notify off",
    );
    let enqueued: HashSet<i64> = add_numbered(&mut setup, "burn", jobs).into_iter().collect();
    let start = Barrier::new(workers + 1);
    let abort = AtomicBool::new(false);
    let (began, per_worker) = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mut client = db.client();
                let (start, abort) = (&start, &abort);
                s.spawn(move || {
                    let _guard = AbortOnPanic(abort);
                    let worker = format!("burner-{w}");
                    let get = ok(
                        client.prepare("SELECT id FROM app_jobs.get_job($1)"),
                        "prepare",
                    );
                    let done = ok(
                        client.prepare("SELECT id FROM app_jobs.complete_job($1, $2)"),
                        "prepare",
                    );
                    start.wait();
                    let mut completions = Vec::new();
                    while !abort.load(Ordering::SeqCst) {
                        let id: Option<i64> =
                            ok(client.query_one(&get, &[&worker]), "get_job").get(0);
                        let Some(id) = id else { break };
                        let back: Option<i64> =
                            ok(client.query_one(&done, &[&worker, &id]), "complete_job").get(0);
                        assert_eq!(back, Some(id), "{worker} could not complete its job");
                        completions.push((id, Instant::now()));
                    }
                    completions
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let per_worker: Vec<Vec<(i64, Instant)>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        (began, per_worker)
    });
    let mut completions: Vec<(i64, Instant)> = per_worker.into_iter().flatten().collect();
    let claimed: HashSet<i64> = completions.iter().map(|c| c.0).collect();
    assert_eq!(claimed.len(), completions.len(), "a job was claimed twice");
    assert_eq!(claimed, enqueued, "every job claimed and completed");
    assert_eq!(count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"), 0);

    completions.sort_by_key(|c| c.1);
    let n = completions.len();
    let quarter = n / 4;
    let at = |i: usize| completions[i].1.duration_since(began).as_secs_f64();
    let seconds = at(n - 1);
    Burn {
        jobs: n,
        seconds,
        rate: n as f64 / seconds,
        first_quarter: quarter as f64 / at(quarter - 1),
        last_quarter: quarter as f64 / (seconds - at(n - 1 - quarter)),
    }
}

#[test]
fn a_long_repeatable_read_transaction_slows_the_workers_but_every_job_is_done_exactly_once() {
    let jobs = env_number("JOBSCTL_LONG_TX_JOBS", 2000) as i64;
    let workers = env_number("JOBSCTL_LONG_TX_WORKERS", 4) as usize;
    assert!(jobs >= 8, "JOBSCTL_LONG_TX_JOBS must be at least 8");
    let db = deployed("long_transaction");
    let mut admin = db.client();

    let before = burn(&db, jobs, workers);

    // another session's open snapshot holds the xmin horizon: the dead
    // rows of every claim and completion stay, in the heap and in the
    // claim index, until it ends
    let mut holder = db.client();
    let pid = backend_pid(&mut holder);
    ok(
        holder.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1"),
        "the long transaction",
    );
    let holds = |admin: &mut Client| -> bool {
        ok(
            admin.query_one(
                "SELECT backend_xmin IS NOT NULL AND state = 'idle in transaction' \
                   FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            ),
            "pg_stat_activity",
        )
        .get(0)
    };
    assert!(holds(&mut admin), "the transaction holds a snapshot");
    let during = burn(&db, jobs, workers);
    assert!(holds(&mut admin), "the snapshot was held to the end");
    ok(holder.batch_execute("COMMIT"), "end the long transaction");

    let after = burn(&db, jobs, workers);
    let again = burn(&db, jobs, workers);
    eprintln!(
        "long transaction, {workers} workers, {jobs} jobs per phase, load average {}:\n  \
         before: {before}\n  during: {during}\n  after:  {after}\n  after, again: {again}",
        load_average()
    );
}

// ---------------------------------------------------------------------------
// 6. The soak.

/// What a soak worker did, in the order of a shared sequence: a claim is
/// numbered after `get_job` returned (the claim is committed), the end of
/// an attempt before `complete_job`/`fail_job` is called (the job is still
/// held). If the queue is right, every job's events therefore read claim,
/// end, claim, end, ... each end by the worker of the claim before it, and
/// the events of a named queue likewise: two workers holding one job (or
/// one queue) at once would put two claims in a row.
#[derive(Debug, Clone, Copy)]
struct Event {
    seq: u64,
    id: i64,
    attempt: i32,
    worker: u16,
    queue: Option<u8>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Claim,
    Completed,
    /// failed, to be retried
    Failed,
    /// failed at max_attempts: permanently failed
    FailedForGood,
}

#[derive(Debug)]
struct SoakFigures {
    jobs: usize,
    workers: usize,
    attempts: usize,
    failures: usize,
    completed: usize,
    permanently_failed: usize,
    queued_jobs: usize,
    rescheduled: u64,
    monitor_samples: u64,
    seconds: f64,
}

/// The jobs of the soak, numbered n = 1..: task `soak_even`/`soak_odd`;
/// priority n % 3; one in ten in one of eight named queues; poison (fails
/// every attempt, max_attempts 3) when n % 200 is 7 or 110 (1 %, half of
/// them queued); fragile (max_attempts 3) when n % 10 = 3; else 25 attempts.
///
/// Jobs `from..=to` are added in one transaction: the queue-less ones first,
/// then queue by queue in name order. Up to pgpm-jobs `@0.6.0` the order
/// mattered (the count trigger locked a queue's row until commit, so two
/// transactions adding to several queues in different orders deadlocked;
/// docs/reliability.md); since `@0.7.0` it costs nothing and is kept.
fn soak_add(client: &mut Client, from: i32, to: i32, notify: bool) -> Vec<i64> {
    let mut tx = ok(client.transaction(), "begin");
    if !notify {
        ok(
            tx.batch_execute("SET LOCAL app_jobs.notify = off"),
            "notify off",
        );
    }
    let mut ids = Vec::new();
    let parts = std::iter::once("n % 10 <> 0".to_owned())
        .chain((0..8).map(|q| format!("n % 10 = 0 AND (n / 10) % 8 = {q}")));
    for part in parts {
        let rows = ok(
            tx.query(
                &format!(
                    "SELECT j.id FROM (SELECT n FROM generate_series($1::int, $2::int) AS n \
                                        WHERE {part}) AS s, \
                     LATERAL app_jobs.add_job(\
                       '{TENANT}', CASE WHEN n % 2 = 0 THEN 'soak_even' ELSE 'soak_odd' END, \
                       json_build_object('n', n, 'poison', n % 200 IN (7, 110)), \
                       queue_name := CASE WHEN n % 10 = 0 THEN 'soak-' || (n / 10) % 8 END, \
                       max_attempts := CASE WHEN n % 200 IN (7, 110) OR n % 10 = 3 THEN 3 ELSE 25 END, \
                       priority := n % 3) AS j"
                ),
                &[&from, &to],
            ),
            "enqueue",
        );
        ids.extend(rows.iter().map(|row| row.get::<_, i64>(0)));
    }
    ok(tx.commit(), "commit");
    ids
}

#[allow(clippy::too_many_arguments)]
fn soak_worker(
    db: &TestDb,
    w: usize,
    seed: u64,
    jobs: usize,
    seq: &AtomicU64,
    terminal: &AtomicUsize,
    abort: &AtomicBool,
    deadline: Instant,
) -> Vec<Event> {
    let _guard = AbortOnPanic(abort);
    let mut client = db.client();
    let worker = format!("soak-{w}");
    let mut rng = Rng::new(seed ^ (w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let get = ok(
        client.prepare(
            "SELECT id, attempts, max_attempts, queue_name, (payload->>'poison')::boolean \
               FROM app_jobs.get_job($1)",
        ),
        "prepare",
    );
    let complete = ok(
        client.prepare("SELECT id, attempts FROM app_jobs.complete_job($1, $2)"),
        "prepare",
    );
    let fail = ok(
        client.prepare("SELECT id, attempts, max_attempts FROM app_jobs.fail_job($1, $2, $3)"),
        "prepare",
    );
    let mut events = Vec::new();
    loop {
        if abort.load(Ordering::SeqCst) {
            return events;
        }
        let row = ok(client.query_one(&get, &[&worker]), "get_job");
        let Some(id) = row.get::<_, Option<i64>>(0) else {
            if terminal.load(Ordering::SeqCst) == jobs {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{worker}: {} of {jobs} jobs finished at the deadline",
                terminal.load(Ordering::SeqCst)
            );
            thread::sleep(Duration::from_millis(2));
            continue;
        };
        let attempt: i32 = row.get(1);
        let max_attempts: i32 = row.get(2);
        let queue = row
            .get::<_, Option<String>>(3)
            .map(|q| q.trim_start_matches("soak-").parse::<u8>().unwrap());
        let poison: bool = row.get(4);
        let mut event = Event {
            seq: seq.fetch_add(1, Ordering::SeqCst),
            id,
            attempt,
            worker: w as u16,
            queue,
            kind: Kind::Claim,
        };
        events.push(event);

        let failing = poison || rng.below(10) == 0;
        event.seq = seq.fetch_add(1, Ordering::SeqCst);
        if failing {
            let message = if poison {
                "soak: poison".to_owned()
            } else {
                format!("soak: attempt {attempt} failed")
            };
            let row = ok(
                client.query_one(&fail, &[&worker, &id, &message]),
                "fail_job",
            );
            assert_eq!(
                (row.get::<_, Option<i64>>(0), row.get::<_, Option<i32>>(1)),
                (Some(id), Some(attempt)),
                "{worker} could not fail its job"
            );
            assert_eq!(row.get::<_, Option<i32>>(2), Some(max_attempts));
            event.kind = if attempt >= max_attempts {
                terminal.fetch_add(1, Ordering::SeqCst);
                Kind::FailedForGood
            } else {
                Kind::Failed
            };
        } else {
            let row = ok(client.query_one(&complete, &[&worker, &id]), "complete_job");
            assert_eq!(
                (row.get::<_, Option<i64>>(0), row.get::<_, Option<i32>>(1)),
                (Some(id), Some(attempt)),
                "{worker} could not complete its job"
            );
            terminal.fetch_add(1, Ordering::SeqCst);
            event.kind = Kind::Completed;
        }
        events.push(event);
    }
}

/// What the events of a soak say, and the rules they break.
#[derive(Debug, Default)]
struct Histories {
    completed: HashSet<i64>,
    failed_for_good: HashSet<i64>,
    attempts: usize,
    failures: usize,
    problems: Vec<String>,
}

/// Check every job's history (claim, end, claim, end, ... by the same
/// worker each time, attempts counting up from 1, ending completed or
/// permanently failed) and every named queue's (claims and ends alternate:
/// one job of the queue held at a time).
fn check_histories(events: &[Event]) -> Histories {
    // Each job's history, in sequence order.
    let mut by_job: Vec<Event> = events.to_vec();
    by_job.sort_by_key(|e| (e.id, e.seq));
    let mut problems = Vec::new();
    let mut completed = HashSet::new();
    let mut failed_for_good = HashSet::new();
    let mut attempts = 0;
    let mut failures = 0;
    for history in by_job.chunk_by(|a, b| a.id == b.id) {
        let id = history[0].id;
        let mut expected_attempt = 1;
        let mut holder: Option<u16> = None;
        let mut outcome: Option<Kind> = None;
        for e in history {
            let fine = match (holder, outcome, e.kind) {
                (None, None, Kind::Claim) if e.attempt == expected_attempt => {
                    holder = Some(e.worker);
                    attempts += 1;
                    true
                }
                (Some(w), None, Kind::Failed | Kind::Completed | Kind::FailedForGood)
                    if w == e.worker && e.attempt == expected_attempt =>
                {
                    holder = None;
                    expected_attempt += 1;
                    if e.kind != Kind::Completed {
                        failures += 1;
                    }
                    if e.kind != Kind::Failed {
                        outcome = Some(e.kind);
                    }
                    true
                }
                _ => false,
            };
            if !fine {
                problems.push(format!("job {id}: {history:?}"));
                break;
            }
        }
        match outcome {
            Some(Kind::Completed) => completed.insert(id),
            Some(Kind::FailedForGood) => failed_for_good.insert(id),
            _ => {
                problems.push(format!("job {id} did not finish: {history:?}"));
                false
            }
        };
    }
    // Each named queue's claims and ends alternate.
    let mut by_queue: Vec<Event> = events
        .iter()
        .filter(|e| e.queue.is_some())
        .copied()
        .collect();
    by_queue.sort_by_key(|e| (e.queue, e.seq));
    for history in by_queue.chunk_by(|a, b| a.queue == b.queue) {
        for pair in history.windows(2) {
            if (pair[0].kind == Kind::Claim) == (pair[1].kind == Kind::Claim) {
                problems.push(format!(
                    "queue soak-{}: {:?} then {:?}",
                    pair[0].queue.unwrap(),
                    pair[0],
                    pair[1]
                ));
            }
        }
    }
    Histories {
        completed,
        failed_for_good,
        attempts,
        failures,
        problems,
    }
}

/// The checker itself: it must catch a job held by two workers at once, an
/// attempt that does not count up, a job that never finished and a queue
/// with two jobs held at once.
#[test]
fn the_soak_history_check_catches_double_holders_and_unfinished_jobs() {
    let e = |seq, id, attempt, worker, queue, kind| Event {
        seq,
        id,
        attempt,
        worker,
        queue,
        kind,
    };
    use Kind::*;
    // retried once, then completed; permanently failed at attempt 1 of 1
    let good = [
        e(0, 1, 1, 0, None, Claim),
        e(1, 1, 1, 0, None, Failed),
        e(2, 1, 2, 1, None, Claim),
        e(3, 1, 2, 1, None, Completed),
        e(4, 2, 1, 3, Some(0), Claim),
        e(5, 2, 1, 3, Some(0), FailedForGood),
        e(6, 3, 1, 2, Some(0), Claim),
        e(7, 3, 1, 2, Some(0), Completed),
    ];
    let checked = check_histories(&good);
    assert_eq!(checked.problems, Vec::<String>::new());
    assert_eq!(checked.completed, HashSet::from([1, 3]));
    assert_eq!(checked.failed_for_good, HashSet::from([2]));
    assert_eq!((checked.attempts, checked.failures), (4, 2));

    let bad: [&[Event]; 5] = [
        // two workers hold job 1 at once
        &[
            e(0, 1, 1, 0, None, Claim),
            e(1, 1, 2, 1, None, Claim),
            e(2, 1, 1, 0, None, Completed),
            e(3, 1, 2, 1, None, Completed),
        ],
        // the end reported by another worker than the claimer
        &[e(0, 1, 1, 0, None, Claim), e(1, 1, 1, 1, None, Completed)],
        // the second claim does not count the attempt
        &[
            e(0, 1, 1, 0, None, Claim),
            e(1, 1, 1, 0, None, Failed),
            e(2, 1, 1, 1, None, Claim),
            e(3, 1, 1, 1, None, Completed),
        ],
        // claimed, never finished
        &[e(0, 1, 1, 0, None, Claim), e(1, 1, 1, 0, None, Failed)],
        // two jobs of queue 5 held at once
        &[
            e(0, 1, 1, 0, Some(5), Claim),
            e(1, 2, 1, 1, Some(5), Claim),
            e(2, 1, 1, 0, Some(5), Completed),
            e(3, 2, 1, 1, Some(5), Completed),
        ],
    ];
    for (i, events) in bad.iter().enumerate() {
        assert!(
            !check_histories(events).problems.is_empty(),
            "bad history #{i} passed: {events:?}"
        );
    }
}

fn soak(label: &str, jobs: usize, workers: usize, seed: u64) -> SoakFigures {
    assert!(jobs >= 400, "a soak needs at least 400 jobs");
    let db = deployed(label);
    let mut setup = db.client();
    let load_before = load_average();

    // half the jobs before the workers start, the other half added by two
    // producers while they run
    let upfront = (jobs / 2) as i32;
    let mut enqueued: Vec<i64> = Vec::with_capacity(jobs);
    for from in (1..=upfront).step_by(10_000) {
        enqueued.extend(soak_add(
            &mut setup,
            from,
            (from + 9_999).min(upfront),
            false,
        ));
    }

    let seq = AtomicU64::new(0);
    let terminal = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let running = AtomicBool::new(true);
    let deadline = Instant::now() + Duration::from_secs(120 + jobs as u64 / 20);
    let start = Barrier::new(workers + 1);
    let began = Instant::now();
    let (events, produced, rescheduled, monitor) = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (db, seq, terminal, abort, start) = (&db, &seq, &terminal, &abort, &start);
                s.spawn(move || {
                    start.wait();
                    soak_worker(db, w, seed, jobs, seq, terminal, abort, deadline)
                })
            })
            .collect();
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let (db, abort) = (&db, &abort);
                s.spawn(move || {
                    let _guard = AbortOnPanic(abort);
                    let mut client = db.client();
                    let mut ids = Vec::new();
                    let mut from = upfront + 1 + p * 500;
                    while from <= jobs as i32 && !abort.load(Ordering::SeqCst) {
                        ids.extend(soak_add(
                            &mut client,
                            from,
                            (from + 499).min(jobs as i32),
                            true,
                        ));
                        from += 1000;
                        thread::sleep(Duration::from_millis(20));
                    }
                    ids
                })
            })
            .collect();
        // Retries now instead of after their backoff (2.7 s, 7.4 s, ... up
        // to hours): an admin calling reschedule_jobs on waiting jobs,
        // concurrently with the workers' claims.
        let janitor = s.spawn(|| {
            let _guard = AbortOnPanic(&abort);
            let mut client = db.client();
            let mut rescheduled = 0u64;
            while running.load(Ordering::SeqCst) && !abort.load(Ordering::SeqCst) {
                rescheduled += count(
                    &mut client,
                    "SELECT count(*) FROM app_jobs.reschedule_jobs(ARRAY(\
                       SELECT id FROM app_jobs.jobs \
                        WHERE locked_at IS NULL AND attempts > 0 AND attempts < max_attempts \
                          AND run_at > now() LIMIT 1000), run_at := now())",
                ) as u64;
                thread::sleep(Duration::from_millis(100));
            }
            rescheduled
        });
        // Every 250 ms, in one snapshot: no queue with two running jobs,
        // and job_queues.job_count equal to the real count of every queue.
        let monitor = s.spawn(|| {
            let _guard = AbortOnPanic(&abort);
            let mut client = db.client();
            let (mut samples, mut problems) = (0u64, Vec::new());
            while running.load(Ordering::SeqCst) && !abort.load(Ordering::SeqCst) {
                let row = ok(
                    client.query_one(
                        "SELECT (SELECT count(*) FROM (SELECT queue_name FROM app_jobs.jobs \
                                  WHERE locked_at IS NOT NULL AND queue_name IS NOT NULL \
                                  GROUP BY 1 HAVING count(*) > 1) AS doubled), \
                                (SELECT string_agg(format('%s: job_count %s, real %s', \
                                         coalesce(q.queue_name, r.queue_name), q.job_count, r.n), '; ') \
                                   FROM app_jobs.job_queues AS q \
                                   FULL JOIN (SELECT queue_name, count(*) AS n FROM app_jobs.jobs \
                                               WHERE queue_name IS NOT NULL GROUP BY 1) AS r \
                                     ON r.queue_name = q.queue_name \
                                  WHERE q.job_count IS DISTINCT FROM r.n)",
                        &[],
                    ),
                    "monitor",
                );
                let doubled: i64 = row.get(0);
                if doubled > 0 {
                    problems.push(format!("{doubled} queues with two running jobs"));
                }
                if let Some(mismatch) = row.get::<_, Option<String>>(1) {
                    problems.push(mismatch);
                }
                samples += 1;
                thread::sleep(Duration::from_millis(250));
            }
            (samples, problems)
        });
        start.wait();
        let produced: Vec<i64> = producers
            .into_iter()
            .flat_map(|p| p.join().unwrap())
            .collect();
        let events: Vec<Event> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        running.store(false, Ordering::SeqCst);
        (
            events,
            produced,
            janitor.join().unwrap(),
            monitor.join().unwrap(),
        )
    });
    let seconds = began.elapsed().as_secs_f64();
    enqueued.extend(produced);
    let enqueued_set: HashSet<i64> = enqueued.iter().copied().collect();
    assert_eq!(enqueued.len(), jobs, "jobs added");
    assert_eq!(enqueued_set.len(), jobs, "distinct ids");
    let (monitor_samples, monitor_problems) = monitor;
    assert!(
        monitor_problems.is_empty(),
        "the monitor saw: {monitor_problems:?}"
    );

    let Histories {
        completed,
        failed_for_good,
        attempts,
        failures,
        mut problems,
    } = check_histories(&events);
    problems.truncate(20);
    assert!(
        problems.is_empty(),
        "histories that break the rules:\n{}",
        problems.join("\n")
    );

    // None lost: every job completed or permanently failed, counted by id.
    let seen: HashSet<i64> = completed.union(&failed_for_good).copied().collect();
    let never: Vec<&i64> = enqueued_set.difference(&seen).take(20).collect();
    assert!(never.is_empty(), "jobs never finished: {never:?}");
    assert!(seen.is_subset(&enqueued_set), "claimed jobs nobody added");
    assert_eq!(completed.len() + failed_for_good.len(), jobs);

    // The table holds exactly the permanently failed jobs, unlocked.
    let left: HashMap<i64, (i32, i32, Option<String>, Option<String>)> = ok(
        setup.query(
            "SELECT id, attempts, max_attempts, last_error, locked_by FROM app_jobs.jobs",
            &[],
        ),
        "jobs left",
    )
    .iter()
    .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3), row.get(4))))
    .collect();
    assert_eq!(
        left.keys().copied().collect::<HashSet<i64>>(),
        failed_for_good,
        "jobs left in the table = the permanently failed ones"
    );
    for (id, (attempts, max_attempts, last_error, locked_by)) in &left {
        assert_eq!(attempts, max_attempts, "job {id}");
        assert_eq!(*locked_by, None, "job {id}");
        let last_error = last_error.as_deref().unwrap_or_default();
        assert!(
            last_error == "soak: poison"
                || last_error == format!("soak: attempt {attempts} failed"),
            "job {id}: last_error {last_error}"
        );
    }
    // job_queues.job_count = the real counts; no queue left locked
    assert_job_queues_exact_and_unlocked(&mut setup);

    let queued_jobs = enqueued.len() / 10;
    let figures = SoakFigures {
        jobs,
        workers,
        attempts,
        failures,
        completed: completed.len(),
        permanently_failed: failed_for_good.len(),
        queued_jobs,
        rescheduled,
        monitor_samples,
        seconds,
    };
    eprintln!(
        "soak ({label}, seed {seed:#x}): {} jobs ({} in 8 named queues), {} workers, {} attempts, \
         {} failures ({:.1} % of attempts), {} completed, {} permanently failed, \
         {} retries pulled forward by reschedule_jobs, {} monitor samples; \
         {:.1} s, {:.0} jobs/s, {:.0} attempts/s; load average before {load_before}, after {}",
        figures.jobs,
        figures.queued_jobs,
        figures.workers,
        figures.attempts,
        figures.failures,
        100.0 * figures.failures as f64 / figures.attempts as f64,
        figures.completed,
        figures.permanently_failed,
        figures.rescheduled,
        figures.monitor_samples,
        figures.seconds,
        figures.jobs as f64 / figures.seconds,
        figures.attempts as f64 / figures.seconds,
        load_average()
    );
    figures
}

/// The soak of the default suite: 5,000 jobs, 16 workers.
#[test]
fn soak_short_5000_jobs_16_workers_nothing_lost_nothing_run_twice_at_once() {
    let figures = soak("soak_short", 5_000, 16, 0x50a4);
    assert!(figures.permanently_failed >= 50, "{figures:?}");
    assert!(figures.failures > figures.jobs / 20, "{figures:?}");
}

/// The full soak, not in the default suite (minutes on a small machine):
/// `JOBSCTL_SOAK_JOBS` jobs (100,000), `JOBSCTL_SOAK_WORKERS` workers (16),
/// `JOBSCTL_SOAK_SEED`.
#[test]
#[ignore = "minutes long; run with: cargo test --release --test reliability -- --ignored soak"]
fn soak_full() {
    let jobs = env_number("JOBSCTL_SOAK_JOBS", 100_000) as usize;
    let workers = env_number("JOBSCTL_SOAK_WORKERS", 16) as usize;
    let seed = env_number("JOBSCTL_SOAK_SEED", 0x50a4_f011);
    let figures = soak("soak_full", jobs, workers, seed);
    assert!(figures.permanently_failed >= jobs / 100, "{figures:?}");
}
