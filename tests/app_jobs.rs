//! The `app_jobs` job system as `jobsctl deploy` installs it: the SQL test
//! files of `tests/sql/app_jobs`, workers racing on real connections,
//! trigger helpers fed hostile values, privileges per role, verify and
//! revert, and notifications.
//!
//! Every test deploys the embedded workspace with the real binary into its
//! own database of the test cluster.

mod common;

use common::pg::TestDb;
use common::queue::{TENANT, add_numbered, count, deployed, ok};
use common::{describe_sql_error, jobsctl_on, run_sql_file, sqlstate};
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use predicates::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// 1. The SQL test files pass after `jobsctl deploy`.

/// One test per file of `tests/sql/app_jobs`, each on its own freshly
/// deployed database (the files empty the app_jobs tables inside their
/// rolled-back transaction).
macro_rules! sql_file_tests {
    ($($test:ident => $file:literal,)*) => {
        const SQL_FILES: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                let db = deployed(stringify!($test));
                run_sql_file(&db, concat!("app_jobs/", $file));
            }
        )*
    };
}

sql_file_tests! {
    sql_01_contract_and_privileges => "01_contract_and_privileges.sql",
    sql_02_add_job => "02_add_job.sql",
    sql_03_get_job => "03_get_job.sql",
    sql_04_complete_and_fail => "04_complete_and_fail.sql",
    sql_05_admin_functions => "05_admin_functions.sql",
    sql_06_job_queues => "06_job_queues.sql",
    sql_07_scheduled_jobs => "07_scheduled_jobs.sql",
    sql_08_trigger_helpers => "08_trigger_helpers.sql",
    sql_09_claim_plan => "09_claim_plan.sql",
    sql_10_schedule_next => "10_schedule_next.sql",
    sql_11_schedule_validation => "11_schedule_validation.sql",
    sql_12_run_due_scheduled_jobs => "12_run_due_scheduled_jobs.sql",
    sql_13_batch_api => "13_batch_api.sql",
    sql_14_refresh_job_locks => "14_refresh_job_locks.sql",
    sql_15_queue_operations => "15_queue_operations.sql",
}

#[test]
fn every_app_jobs_sql_file_has_a_test() {
    assert_eq!(
        common::sql_files("app_jobs"),
        SQL_FILES,
        "add the new file to sql_file_tests! in tests/app_jobs.rs"
    );
}

// ---------------------------------------------------------------------------
// 2. Many workers, many jobs.

#[test]
fn eight_workers_claim_and_complete_ten_thousand_jobs_each_exactly_once() {
    const JOBS: i64 = 10_000;
    const WORKERS: usize = 8;
    let db = deployed("ten_thousand");
    let mut setup = db.client();
    let added = add_numbered(&mut setup, "bulk", JOBS);
    assert_eq!(added.len() as i64, JOBS);

    let start = Arc::new(Barrier::new(WORKERS + 1));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let worker = format!("worker-{w}");
                let prepared = (
                    client.prepare("SELECT id FROM app_jobs.get_job($1)"),
                    client.prepare("SELECT id FROM app_jobs.complete_job($1, $2)"),
                );
                start.wait();
                let (get, complete) = (ok(prepared.0, "prepare"), ok(prepared.1, "prepare"));
                let mut claimed = Vec::new();
                loop {
                    let id: Option<i64> = ok(client.query_one(&get, &[&worker]), "get_job").get(0);
                    let Some(id) = id else { break };
                    claimed.push(id);
                    let done: Option<i64> =
                        ok(client.query_one(&complete, &[&worker, &id]), "complete_job").get(0);
                    assert_eq!(done, Some(id), "{worker} could not complete its job {id}");
                }
                claimed
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let per_worker: Vec<Vec<i64>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let elapsed = began.elapsed();

    let claims: Vec<i64> = per_worker.iter().flatten().copied().collect();
    let distinct: HashSet<i64> = claims.iter().copied().collect();
    eprintln!(
        "app_jobs throughput: {JOBS} jobs, {WORKERS} workers, {:.2} s, {:.0} claims/s \
         (claim + complete per job; per worker: {:?})",
        elapsed.as_secs_f64(),
        claims.len() as f64 / elapsed.as_secs_f64(),
        per_worker.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(claims.len() as i64, JOBS, "claims in total");
    assert_eq!(distinct.len(), claims.len(), "a job was claimed twice");
    assert_eq!(distinct, added.into_iter().collect::<HashSet<_>>());
    assert_eq!(count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"), 0);
}

// ---------------------------------------------------------------------------
// 3. Named queues run one job at a time.

#[test]
fn a_named_queue_never_runs_two_jobs_at_once_and_job_count_stays_exact() {
    const QUEUES: usize = 5;
    const WORKERS: usize = 8;
    let db = deployed("queues");
    let mut setup = db.client();
    // 40 jobs per queue and 40 without a queue; every fifth job fails for
    // good (max_attempts 1) and stays in its queue.
    ok(
        setup.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'step', json_build_object('fail', n % 5 = 0), \
                    queue_name := CASE WHEN q = 0 THEN NULL ELSE 'queue-' || q END, \
                    max_attempts := CASE WHEN n % 5 = 0 THEN 1 ELSE 25 END) \
               FROM generate_series(0, {QUEUES}) AS q, generate_series(1, 40) AS n"
        )),
        "enqueue",
    );

    let producing = Arc::new(AtomicBool::new(true));
    let running = Arc::new(AtomicBool::new(true));

    // Adds jobs to the queues while they run, so that queue rows are
    // created, counted and removed under concurrency too.
    let producer = {
        let mut client = db.client();
        let producing = Arc::clone(&producing);
        thread::spawn(move || {
            let _done = ClearOnDrop(producing);
            for round in 0..20 {
                for q in 1..=QUEUES {
                    ok(
                        client.execute(
                            &format!(
                                "SELECT app_jobs.add_job('{TENANT}', 'step', '{{\"fail\": false}}', \
                                 queue_name := 'queue-{q}')"
                            ),
                            &[],
                        ),
                        "add_job while running",
                    );
                }
                thread::sleep(Duration::from_millis(5 + round % 3));
            }
        })
    };

    let monitor = {
        let mut client = db.client();
        let running = Arc::clone(&running);
        thread::spawn(move || {
            let (mut samples, mut seen) = (0u64, Vec::new());
            while running.load(Ordering::SeqCst) {
                for row in ok(
                    client.query(
                        "SELECT queue_name, count(*) FROM app_jobs.jobs \
                         WHERE locked_at IS NOT NULL AND queue_name IS NOT NULL \
                         GROUP BY 1 HAVING count(*) > 1",
                        &[],
                    ),
                    "monitor",
                ) {
                    seen.push((row.get::<_, String>(0), row.get::<_, i64>(1)));
                }
                samples += 1;
            }
            (samples, seen)
        })
    };

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            let producing = Arc::clone(&producing);
            thread::spawn(move || {
                let worker = format!("worker-{w}");
                let (mut completed, mut failed) = (0u32, 0u32);
                loop {
                    let row = ok(
                        client.query_one(
                            "SELECT id, queue_name, (payload->>'fail')::boolean \
                             FROM app_jobs.get_job($1)",
                            &[&worker],
                        ),
                        "get_job",
                    );
                    let Some(id) = row.get::<_, Option<i64>>(0) else {
                        // done when the producer had finished before the
                        // count and nothing is pending or running
                        let produced = !producing.load(Ordering::SeqCst);
                        let pending = count(
                            &mut client,
                            "SELECT count(*) FROM app_jobs.jobs WHERE attempts < max_attempts",
                        );
                        if produced && pending == 0 {
                            break;
                        }
                        thread::sleep(Duration::from_millis(2));
                        continue;
                    };
                    if let Some(queue) = row.get::<_, Option<String>>(1) {
                        let running: i64 = ok(
                            client.query_one(
                                "SELECT count(*) FROM app_jobs.jobs \
                                 WHERE queue_name = $1 AND locked_at IS NOT NULL",
                                &[&queue],
                            ),
                            "running jobs of the queue",
                        )
                        .get(0);
                        assert_eq!(running, 1, "{worker} claimed job {id} of {queue}");
                    }
                    thread::sleep(Duration::from_millis(3));
                    let reported: Option<i64> = if row.get::<_, bool>(2) {
                        failed += 1;
                        ok(
                            client.query_one(
                                "SELECT id FROM app_jobs.fail_job($1, $2, 'it broke')",
                                &[&worker, &id],
                            ),
                            "fail_job",
                        )
                        .get(0)
                    } else {
                        completed += 1;
                        ok(
                            client.query_one(
                                "SELECT id FROM app_jobs.complete_job($1, $2)",
                                &[&worker, &id],
                            ),
                            "complete_job",
                        )
                        .get(0)
                    };
                    assert_eq!(reported, Some(id), "{worker} lost its job {id}");
                }
                (completed, failed)
            })
        })
        .collect();

    let produced = producer.join();
    let results: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
    running.store(false, Ordering::SeqCst);
    let (samples, seen) = monitor.join().expect("the monitor failed");
    produced.expect("the producer failed");
    let results: Vec<(u32, u32)> = results
        .into_iter()
        .map(|r| r.expect("a worker failed"))
        .collect();
    eprintln!("queue monitor: {samples} samples, results per worker {results:?}");

    assert!(samples > 10, "the monitor sampled only {samples} times");
    assert!(seen.is_empty(), "queues with two running jobs: {seen:?}");
    let completed: u32 = results.iter().map(|r| r.0).sum();
    let failed: u32 = results.iter().map(|r| r.1).sum();
    let queued = 40 * (QUEUES as u32 + 1) + 20 * QUEUES as u32;
    assert_eq!(failed, 8 * (QUEUES as u32 + 1), "failed jobs");
    assert_eq!(completed + failed, queued, "jobs run");
    // What is left: the permanently failed jobs, unlocked, in their queues.
    assert_eq!(
        count(
            &mut setup,
            "SELECT count(*) FROM app_jobs.jobs \
             WHERE attempts >= max_attempts AND locked_at IS NULL AND last_error = 'it broke'"
        ),
        failed as i64
    );
    assert_eq!(
        count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"),
        failed as i64
    );
    let counts: Vec<(String, i64, i64)> = ok(
        setup.query(
            "SELECT coalesce(q.queue_name, j.queue_name), coalesce(q.job_count, 0)::bigint, \
                    coalesce(j.n, 0) \
               FROM app_jobs.job_queues AS q \
               FULL JOIN (SELECT queue_name, count(*) AS n FROM app_jobs.jobs \
                           WHERE queue_name IS NOT NULL GROUP BY 1) AS j \
                 ON j.queue_name = q.queue_name \
              ORDER BY 1",
            &[],
        ),
        "job counts",
    )
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    assert_eq!(
        counts.len(),
        QUEUES,
        "one job_queues row per queue with jobs: {counts:?}"
    );
    for (queue, job_count, real) in &counts {
        assert_eq!(job_count, real, "job_queues.job_count of {queue}");
        assert_eq!(*real, 8, "failed jobs left in {queue}");
    }
    assert_eq!(
        count(
            &mut setup,
            "SELECT count(*) FROM app_jobs.job_queues WHERE locked_at IS NOT NULL OR locked_by IS NOT NULL"
        ),
        0,
        "queues still locked"
    );
}

/// Clears the flag when dropped, also when its thread panics.
struct ClearOnDrop(Arc<AtomicBool>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------
// 4. Job keys under concurrency.

/// The id and key of the row add_job returned.
type AddedJob = (Option<i64>, Option<String>);

#[test]
fn concurrent_add_job_with_one_key_leaves_exactly_one_job() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 20;
    let db = deployed("same_key");
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut client = db.client();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                // no panics in here: the others would wait at the barrier forever
                let sql = format!(
                    "SELECT id, key FROM app_jobs.add_job('{TENANT}', 'debounced', \
                     json_build_object('thread', $1::int), job_key := $2)"
                );
                (0..ROUNDS)
                    .map(|round| {
                        let key = format!("key-{round}");
                        barrier.wait();
                        client
                            .query_one(&sql, &[&(t as i32), &key])
                            .map(|row| {
                                (
                                    row.get::<_, Option<i64>>(0),
                                    row.get::<_, Option<String>>(1),
                                )
                            })
                            .map_err(|e| describe_sql_error(&e))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<Result<AddedJob, String>>> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();

    let mut client = db.client();
    for round in 0..ROUNDS {
        let key = format!("key-{round}");
        let rows = ok(
            client.query(
                "SELECT id, (payload->>'thread')::int FROM app_jobs.jobs WHERE key = $1",
                &[&key],
            ),
            "jobs of the key",
        );
        assert_eq!(rows.len(), 1, "jobs with key {key}");
        let id: i64 = rows[0].get(0);
        let thread = rows[0].get::<_, i32>(1) as usize;
        assert!(thread < THREADS);
        for (t, per_round) in results.iter().enumerate() {
            assert_eq!(
                per_round[round],
                Ok((Some(id), Some(key.clone()))),
                "add_job of thread {t} in round {round}"
            );
        }
    }
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM app_jobs.jobs"),
        ROUNDS as i64
    );
}

#[test]
fn add_job_with_a_key_racing_a_claiming_worker_keeps_one_job_per_key() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 15;
    let db = deployed("key_vs_worker");
    // the adders and one worker start each round together; the worker
    // claims the round's job again and again until the adders are done
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let adding = Arc::new(AtomicUsize::new(0));
    let adders: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut client = db.client();
            let (barrier, adding) = (Arc::clone(&barrier), Arc::clone(&adding));
            thread::spawn(move || {
                // no panics in here: the others would wait at the barrier forever
                let mut problems = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait();
                    let sql = format!(
                        "SELECT id FROM app_jobs.add_job('{TENANT}', 'round-{round}', \
                         json_build_object('thread', {t}), job_key := 'key-{round}')"
                    );
                    for _ in 0..3 {
                        match client.query_one(&sql, &[]) {
                            Ok(row) if row.get::<_, Option<i64>>(0).is_some() => {}
                            Ok(_) => problems.push(format!("round {round}: NULL row")),
                            Err(e) => {
                                problems.push(format!("round {round}: {}", describe_sql_error(&e)))
                            }
                        }
                    }
                    adding.fetch_add(1, Ordering::SeqCst);
                    barrier.wait();
                }
                problems
            })
        })
        .collect();
    let worker = {
        let mut client = db.client();
        let (barrier, adding) = (Arc::clone(&barrier), Arc::clone(&adding));
        thread::spawn(move || {
            let mut problems = Vec::new();
            let mut claims = 0;
            for round in 0..ROUNDS {
                barrier.wait();
                let sql =
                    format!("SELECT id FROM app_jobs.get_job('worker', ARRAY['round-{round}'])");
                while adding.load(Ordering::SeqCst) < THREADS * (round + 1) {
                    match client.query_one(&sql, &[]) {
                        Ok(row) => claims += row.get::<_, Option<i64>>(0).is_some() as usize,
                        Err(e) => {
                            problems.push(format!("round {round}: {}", describe_sql_error(&e)))
                        }
                    }
                }
                barrier.wait();
            }
            (claims, problems)
        })
    };
    let mut problems: Vec<String> = adders.into_iter().flat_map(|a| a.join().unwrap()).collect();
    let (claims, worker_problems) = worker.join().unwrap();
    problems.extend(worker_problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let mut client = db.client();
    let mut superseded = 0;
    for round in 0..ROUNDS {
        let task = format!("round-{round}");
        let keyed = ok(
            client.query(
                "SELECT id FROM app_jobs.jobs WHERE key = $1",
                &[&format!("key-{round}")],
            ),
            "keyed jobs",
        );
        assert_eq!(keyed.len(), 1, "jobs carrying key-{round}");
        // every other job of the round is a running job that gave its key up
        let others = ok(
            client.query(
                "SELECT id, superseded, locked_by FROM app_jobs.jobs \
                 WHERE task_identifier = $1 AND key IS NULL",
                &[&task],
            ),
            "keyless jobs",
        );
        for row in others {
            assert!(
                row.get::<_, bool>(1),
                "job {} lost its key but is not superseded",
                row.get::<_, i64>(0)
            );
            assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("worker"));
            superseded += 1;
        }
    }
    eprintln!("key vs worker: {claims} claims, {superseded} jobs superseded by a new add_job");
}

// ---------------------------------------------------------------------------
// 5. Expired locks.

#[test]
fn a_worker_whose_lock_expired_can_neither_complete_nor_fail_the_job() {
    let db = deployed("expired_lock");
    let mut c = db.client();
    let id: i64 = ok(
        c.query_one(
            &format!("SELECT id FROM app_jobs.add_job('{TENANT}', 'slow')"),
            &[],
        ),
        "add_job",
    )
    .get(0);
    let claimed: Option<i64> = ok(
        c.query_one("SELECT id FROM app_jobs.get_job('a')", &[]),
        "get_job a",
    )
    .get(0);
    assert_eq!(claimed, Some(id));
    // worker a has held the lock for ten minutes; worker b allows five
    ok(
        c.execute(
            "UPDATE app_jobs.jobs SET locked_at = now() - interval '10 minutes' WHERE id = $1",
            &[&id],
        ),
        "backdate the lock",
    );
    let row = ok(
        c.query_one(
            "SELECT id, attempts, locked_by, last_error FROM app_jobs.get_job('b', job_expiry := '5 minutes')",
            &[],
        ),
        "get_job b",
    );
    assert_eq!(
        row.get::<_, Option<i64>>(0),
        Some(id),
        "b takes the expired job"
    );
    assert_eq!(row.get::<_, Option<i32>>(1), Some(2));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("b"));
    let last_error: String = row.get::<_, Option<String>>(3).unwrap_or_default();
    assert!(
        last_error.contains("lock of worker a"),
        "last_error: {last_error}"
    );

    for sql in [
        "SELECT id FROM app_jobs.complete_job('a', $1)",
        "SELECT id FROM app_jobs.fail_job('a', $1, 'too late')",
    ] {
        let id_back: Option<i64> = ok(c.query_one(sql, &[&id]), sql).get(0);
        assert_eq!(id_back, None, "{sql} must return the all-NULL row");
        let state = ok(
            c.query_one(
                "SELECT locked_by, attempts, last_error IS DISTINCT FROM 'too late' FROM app_jobs.jobs WHERE id = $1",
                &[&id],
            ),
            "job state",
        );
        assert_eq!(
            state.get::<_, Option<String>>(0).as_deref(),
            Some("b"),
            "after {sql}"
        );
        assert_eq!(state.get::<_, i32>(1), 2, "after {sql}");
        assert!(state.get::<_, bool>(2), "after {sql}");
    }
    let done: Option<i64> = ok(
        c.query_one("SELECT id FROM app_jobs.complete_job('b', $1)", &[&id]),
        "complete b",
    )
    .get(0);
    assert_eq!(done, Some(id));
    assert_eq!(count(&mut c, "SELECT count(*) FROM app_jobs.jobs"), 0);
}

#[test]
fn an_expired_lock_recovered_without_a_new_claim_still_shuts_the_old_worker_out() {
    let db = deployed("expired_unclaimed");
    let mut c = db.client();
    let id: i64 = ok(
        c.query_one(
            &format!("SELECT id FROM app_jobs.add_job('{TENANT}', 'slow')"),
            &[],
        ),
        "add_job",
    )
    .get(0);
    ok(
        c.execute(
            "SELECT app_jobs.get_job('a', job_expiry := '1 second')",
            &[],
        ),
        "get_job a",
    );
    thread::sleep(Duration::from_millis(1100));
    // b asks for other tasks only: the expired lock is recovered, nothing claimed
    let other: Option<i64> = ok(
        c.query_one(
            "SELECT id FROM app_jobs.get_job('b', ARRAY['other'], '1 second')",
            &[],
        ),
        "get_job b",
    )
    .get(0);
    assert_eq!(other, None);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM app_jobs.jobs WHERE locked_at IS NULL AND locked_by IS NULL"
        ),
        1,
        "the expired lock is released"
    );
    for sql in [
        "SELECT id FROM app_jobs.complete_job('a', $1)",
        "SELECT id FROM app_jobs.fail_job('a', $1, 'too late')",
    ] {
        let back: Option<i64> = ok(c.query_one(sql, &[&id]), sql).get(0);
        assert_eq!(back, None, "{sql}");
    }
    let row = ok(
        c.query_one(
            "SELECT count(*), min(attempts) FROM app_jobs.jobs WHERE id = $1",
            &[&id],
        ),
        "job",
    );
    assert_eq!(row.get::<_, i64>(0), 1, "the job is still there");
    assert_eq!(row.get::<_, Option<i32>>(1), Some(1));
}

// ---------------------------------------------------------------------------
// 6. Trigger helpers.

/// Values that would break a helper that built SQL or JSON as text.
const HOSTILE: &[Option<&str>] = &[
    Some("it's"),
    Some("\"double\" and 'single' quotes"),
    Some("100% %s %I %L %%"),
    Some("back\\slash \\\\ \\n \\u0000 \\'"),
    Some("'); DROP TABLE x; --"),
    Some("\"); DROP TABLE x; --"),
    Some("$$; DROP TABLE x; $$"),
    Some("{\"id\": 1, \"nested\": {\"a\": [1, 2]}}"),
    Some("[1, 2, 3]"),
    Some("null"),
    Some("true"),
    Some("42"),
    Some("line\nbreak\ttab\r"),
    Some("héllo ☃ 😀"),
    Some(""),
    None,
];

#[test]
fn trigger_helpers_enqueue_hostile_values_as_data() {
    let db = deployed("hostile");
    let mut c = db.client();
    ok(
        c.batch_execute(&format!(
            "CREATE TABLE public.x (keep int); INSERT INTO public.x VALUES (1);
             CREATE TABLE public.notes (id bigint PRIMARY KEY, title text, body text,
                                        n integer, flag boolean, doc jsonb);
             CREATE TRIGGER a_row_id AFTER INSERT OR UPDATE OR DELETE ON public.notes
               FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('{TENANT}', 'row_id');
             CREATE TRIGGER b_row AFTER INSERT OR UPDATE OR DELETE ON public.notes
               FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row('{TENANT}', 'row');
             CREATE TRIGGER c_fields AFTER INSERT OR UPDATE OR DELETE ON public.notes
               FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_fields('{TENANT}', 'fields',
                 'body', 'title', 'flag', 'doc');
             CREATE TABLE public.codes (code text PRIMARY KEY, label text);
             CREATE TRIGGER by_code AFTER INSERT OR UPDATE OR DELETE ON public.codes
               FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('{TENANT}', 'code', 'code');"
        )),
        "tables and triggers",
    );

    let mut expected: Vec<(String, Value)> = Vec::new();
    let mut expect_row = |id: i64,
                          title: Option<&str>,
                          body: Option<&str>,
                          n: Option<i32>,
                          flag: Option<bool>,
                          doc: &Value| {
        expected.push(("row_id".into(), json!({ "id": id })));
        expected.push((
            "row".into(),
            json!({ "id": id, "title": title, "body": body, "n": n, "flag": flag, "doc": doc }),
        ));
        expected.push((
            "fields".into(),
            json!({ "body": body, "title": title, "flag": flag, "doc": doc }),
        ));
    };
    for (i, &value) in HOSTILE.iter().enumerate() {
        let id = i as i64 + 1;
        let other = HOSTILE[(i + 3) % HOSTILE.len()];
        let n = (i % 3 != 0).then_some(i as i32 * 7 - 20);
        let flag = (i % 4 != 0).then_some(i % 2 == 0);
        let doc = json!({ "v": value, "list": [value, 1, true, null] });
        ok(
            c.execute(
                "INSERT INTO public.notes VALUES ($1, $2, $3, $4, $5, \
                 jsonb_build_object('v', $2::text, 'list', jsonb_build_array($2::text, 1, true, NULL)))",
                &[&id, &value, &other, &n, &flag],
            ),
            "insert",
        );
        expect_row(id, value, other, n, flag, &doc);
        // swap title and body
        ok(
            c.execute(
                "UPDATE public.notes SET title = body, body = title WHERE id = $1",
                &[&id],
            ),
            "update",
        );
        expect_row(id, other, value, n, flag, &doc);
        ok(
            c.execute("DELETE FROM public.notes WHERE id = $1", &[&id]),
            "delete",
        );
        expect_row(id, other, value, n, flag, &doc);
    }
    for &value in HOSTILE.iter().flatten() {
        ok(
            c.execute("INSERT INTO public.codes VALUES ($1, $1)", &[&value]),
            "insert code",
        );
        ok(
            c.execute(
                "UPDATE public.codes SET label = 'x' WHERE code = $1",
                &[&value],
            ),
            "update code",
        );
        ok(
            c.execute("DELETE FROM public.codes WHERE code = $1", &[&value]),
            "delete code",
        );
        for _ in 0..3 {
            expected.push(("code".into(), json!({ "id": value })));
        }
    }

    let jobs: Vec<(String, Value)> = ok(
        c.query(
            "SELECT task_identifier, payload::text FROM app_jobs.jobs ORDER BY id",
            &[],
        ),
        "jobs",
    )
    .iter()
    .map(|row| {
        let text: String = row.get(1);
        let payload = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("payload is not JSON ({e}): {text}"));
        (row.get(0), payload)
    })
    .collect();
    assert_eq!(
        jobs.len(),
        expected.len(),
        "one job per row change and trigger"
    );
    for (i, (job, want)) in jobs.iter().zip(&expected).enumerate() {
        assert_eq!(job, want, "job #{i}");
    }
    // keys in table order (whole row) and in argument order (fields)
    let key_orders: Vec<(String, String)> = ok(
        c.query(
            "SELECT DISTINCT task_identifier, array_to_string(ARRAY(SELECT json_object_keys(payload)), ',') \
               FROM app_jobs.jobs WHERE task_identifier IN ('row', 'fields') ORDER BY 1",
            &[],
        ),
        "key order",
    )
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(
        key_orders,
        [
            ("fields".to_owned(), "body,title,flag,doc".to_owned()),
            ("row".to_owned(), "id,title,body,n,flag,doc".to_owned()),
        ]
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM public.x"),
        1,
        "x survived"
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        3
    );
}

#[test]
fn a_role_that_may_only_insert_enqueues_through_a_trigger_helper_but_cannot_call_add_job() {
    let db = deployed("insert_only");
    let writer = format!("{}_writer", db.name);
    let mut c = db.client();
    ok(
        c.batch_execute(&format!(
            "CREATE ROLE \"{writer}\" NOLOGIN;
             CREATE TABLE public.orders (id bigint PRIMARY KEY, note text);
             GRANT INSERT ON public.orders TO \"{writer}\";
             CREATE TRIGGER enqueue AFTER INSERT ON public.orders
               FOR EACH ROW EXECUTE FUNCTION app_jobs.tg_add_job_with_row('{TENANT}', 'process_order');"
        )),
        "setup",
    );
    ok(
        c.batch_execute(&format!(
            "SET ROLE \"{writer}\"; INSERT INTO public.orders VALUES (7, 'as the writer'); RESET ROLE"
        )),
        "insert as the writer",
    );
    let payload: String = ok(
        c.query_one(
            "SELECT payload::text FROM app_jobs.jobs WHERE task_identifier = 'process_order'",
            &[],
        ),
        "the job",
    )
    .get(0);
    assert_eq!(
        serde_json::from_str::<Value>(&payload).unwrap(),
        json!({"id": 7, "note": "as the writer"})
    );

    for sql in [
        format!("SELECT app_jobs.add_job('{TENANT}', 'anything')"),
        "SELECT count(*) FROM app_jobs.jobs".to_owned(),
    ] {
        let mut tx = ok(c.transaction(), "begin");
        ok(
            tx.batch_execute(&format!("SET LOCAL ROLE \"{writer}\"")),
            "set role",
        );
        let error = tx
            .batch_execute(&sql)
            .expect_err(&format!("the writer ran {sql}"));
        assert_eq!(
            sqlstate(&error).as_deref(),
            Some("42501"),
            "{sql}: {}",
            describe_sql_error(&error)
        );
        drop(tx);
    }
    ok(
        c.batch_execute(&format!(
            "DROP OWNED BY \"{writer}\"; DROP ROLE \"{writer}\""
        )),
        "drop the writer",
    );
}

// ---------------------------------------------------------------------------
// 7. Privileges.

#[test]
fn administrator_can_run_a_worker_loop() {
    let db = deployed("administrator");
    let mut c = db.client();
    ok(c.batch_execute("SET ROLE administrator"), "set role");
    ok(
        c.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'work', json_build_object('n', n), \
                                     queue_name := CASE WHEN n % 2 = 0 THEN 'serial' END) \
               FROM generate_series(1, 6) AS n;
             SELECT app_jobs.add_scheduled_job('{TENANT}', 'nightly', schedule_info := '{{\"rule\": \"0 3 * * *\"}}');"
        )),
        "add jobs as administrator",
    );
    let (mut completed, mut failed) = (0, 0);
    loop {
        let row = ok(
            c.query_one(
                "SELECT id, (payload->>'n')::int FROM app_jobs.get_job('admin-worker')",
                &[],
            ),
            "get_job",
        );
        let Some(id) = row.get::<_, Option<i64>>(0) else {
            break;
        };
        let sql = if row.get::<_, i32>(1) == 3 {
            failed += 1;
            "SELECT id FROM app_jobs.fail_job('admin-worker', $1, 'no')"
        } else {
            completed += 1;
            "SELECT id FROM app_jobs.complete_job('admin-worker', $1)"
        };
        let back: Option<i64> = ok(c.query_one(sql, &[&id]), sql).get(0);
        assert_eq!(back, Some(id));
    }
    assert_eq!((completed, failed), (5, 1));
    ok(
        c.batch_execute("SELECT app_jobs.release_jobs('admin-worker')"),
        "release_jobs",
    );
    let scheduled: Option<i64> = ok(
        c.query_one(
            "SELECT id FROM app_jobs.get_scheduled_job('admin-scheduler')",
            &[],
        ),
        "get_scheduled_job",
    )
    .get(0);
    let spawned: Option<i64> = ok(
        c.query_one(
            "SELECT id FROM app_jobs.run_scheduled_job($1)",
            &[&scheduled.unwrap()],
        ),
        "run_scheduled_job",
    )
    .get(0);
    assert!(spawned.is_some());
    assert_eq!(count(&mut c, "SELECT count(*) FROM app_jobs.jobs"), 2);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM app_jobs.job_queues WHERE locked_by IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        ok(
            c.query_one("SELECT current_user::text", &[]),
            "current_user"
        )
        .get::<_, String>(0),
        "administrator"
    );
}

#[test]
fn authenticated_anonymous_and_roles_without_grants_are_denied_the_job_functions_and_tables() {
    let db = deployed("denied");
    let nothing = format!("{}_nothing", db.name);
    let usage_only = format!("{}_usage", db.name);
    let mut c = db.client();
    ok(
        c.batch_execute(&format!(
            "CREATE ROLE \"{nothing}\" NOLOGIN;
             CREATE ROLE \"{usage_only}\" NOLOGIN;
             GRANT USAGE ON SCHEMA app_jobs TO \"{usage_only}\";
             SELECT app_jobs.add_job('{TENANT}', 'existing');"
        )),
        "roles",
    );
    let statements = [
        "SELECT * FROM app_jobs.get_job('w')".to_owned(),
        "SELECT * FROM app_jobs.complete_job('w', 1)".to_owned(),
        "SELECT * FROM app_jobs.fail_job('w', 1, 'e')".to_owned(),
        format!("SELECT * FROM app_jobs.add_job('{TENANT}', 't')"),
        "SELECT app_jobs.release_jobs('w')".to_owned(),
        "SELECT * FROM app_jobs.complete_jobs(ARRAY[1::bigint])".to_owned(),
        format!("SELECT * FROM app_jobs.add_scheduled_job('{TENANT}', 't')"),
        "SELECT * FROM app_jobs.jobs".to_owned(),
        "SELECT * FROM app_jobs.scheduled_jobs".to_owned(),
        "SELECT * FROM app_jobs.job_queues".to_owned(),
        format!(
            "INSERT INTO app_jobs.jobs (database_id, task_identifier) VALUES ('{TENANT}', 't')"
        ),
        "UPDATE app_jobs.jobs SET attempts = 0".to_owned(),
        "DELETE FROM app_jobs.jobs".to_owned(),
    ];
    let mut allowed = Vec::new();
    for role in [
        "authenticated",
        "anonymous",
        nothing.as_str(),
        usage_only.as_str(),
    ] {
        for sql in &statements {
            let mut tx = ok(c.transaction(), "begin");
            ok(
                tx.batch_execute(&format!("SET LOCAL ROLE \"{role}\"")),
                "set role",
            );
            match tx.batch_execute(sql) {
                Ok(()) => allowed.push(format!("{role}: {sql}")),
                Err(error) => {
                    let message = describe_sql_error(&error);
                    if sqlstate(&error).as_deref() != Some("42501")
                        || !message.contains("permission denied")
                    {
                        allowed.push(format!("{role}: {sql}: {message}"));
                    }
                }
            }
        }
    }
    assert!(
        allowed.is_empty(),
        "not denied with 42501:\n{}",
        allowed.join("\n")
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM app_jobs.jobs"), 1);
    ok(
        c.batch_execute(&format!(
            "DROP OWNED BY \"{usage_only}\"; DROP ROLE \"{nothing}\", \"{usage_only}\""
        )),
        "drop roles",
    );
}

// ---------------------------------------------------------------------------
// 8. verify and revert.

#[test]
fn verify_passes_after_deploy() {
    let db = deployed("verify_ok");
    jobsctl_on(&db)
        .arg("verify")
        .assert()
        .success()
        .stderr(predicate::str::contains("verify failed").not());
}

#[test]
fn verify_fails_naming_the_change_whose_function_was_dropped() {
    let db = deployed("verify_dropped");
    let mut c = db.client();
    assert_eq!(
        ok(
            c.query_one(
                "SELECT pg_get_function_identity_arguments('app_jobs.fail_job'::regproc)",
                &[]
            ),
            "signature"
        )
        .get::<_, String>(0),
        "worker_id text, job_id bigint, error_message text"
    );
    ok(
        c.batch_execute("DROP FUNCTION app_jobs.fail_job(text, bigint, text)"),
        "drop",
    );
    let output = jobsctl_on(&db).arg("verify").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains(
            "verify failed: pgpm-jobs:schemas/app_jobs/procedures/fail_job: \
             verify/schemas/app_jobs/procedures/fail_job.sql"
        ),
        "stderr:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("verify failed:").count(),
        1,
        "only that change fails:\n{stderr}"
    );
}

/// Keep the default roles in use for the whole test binary, so that a
/// revert in one test database never drops roles that tests running at the
/// same moment in other databases rely on (roles are cluster-wide, and the
/// revert drops them when nothing in the cluster uses them).
fn keep_default_roles() {
    static PIN: OnceLock<TestDb> = OnceLock::new();
    PIN.get_or_init(|| {
        let db = TestDb::new("keep_roles");
        jobsctl_on(&db)
            .args(["deploy", "--package", "pgpm-default-roles"])
            .assert()
            .success();
        ok(
            db.client().batch_execute(&format!(
                "GRANT CONNECT ON DATABASE \"{}\" TO administrator",
                db.name
            )),
            "pin administrator",
        );
        db
    });
}

#[test]
fn revert_removes_every_app_jobs_object_and_empties_the_registry() {
    keep_default_roles();
    let db = deployed("revert");
    let mut c = db.client();
    let functions: Vec<String> = ok(
        c.query(
            "SELECT proname::text FROM pg_proc WHERE pronamespace = 'app_jobs'::regnamespace ORDER BY 1",
            &[],
        ),
        "functions",
    )
    .iter()
    .map(|r| r.get(0))
    .collect();
    for contract in [
        "add_job",
        "get_job",
        "complete_job",
        "fail_job",
        "add_scheduled_job",
        "run_scheduled_job",
        "get_scheduled_job",
        "release_scheduled_jobs",
        "release_jobs",
        "complete_jobs",
        "permanently_fail_jobs",
        "reschedule_jobs",
        "tg_add_job_with_row_id",
        "tg_add_job_with_row",
        "tg_add_job_with_fields",
    ] {
        assert!(
            functions.iter().any(|f| f == contract),
            "app_jobs.{contract} is not deployed: {functions:?}"
        );
    }
    drop(c);

    jobsctl_on(&db).args(["revert", "-y"]).assert().success();

    let mut c = db.client();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'app_jobs'"
        ),
        0,
        "schema app_jobs"
    );
    let left: Vec<String> = ok(
        c.query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname = ANY($1) \
             AND p.pronamespace <> 'pg_catalog'::regnamespace",
            &[&functions],
        ),
        "functions left",
    )
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(left.is_empty(), "functions left behind: {left:?}");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                             AND d.objid = p.oid AND d.deptype = 'e')"
        ),
        0,
        "pgpm-verify functions left (extension functions aside)"
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_class WHERE relname IN ('jobs', 'scheduled_jobs', 'job_queues')"
        ),
        0
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM pgpm_migrate.changes"),
        0
    );
}

/// An expired job whose row another transaction holds at the moment of a
/// claim cannot be recovered then (SKIP LOCKED); its queue must stay locked
/// too, or the claim would run the queue's next job beside it. Once the row
/// is free, the next claim recovers the job and its queue together.
#[test]
fn an_expired_job_whose_row_is_busy_keeps_its_queue_locked() {
    let db = deployed("expired_busy_row");
    let mut c = db.client();
    for claim in [
        "SELECT id FROM app_jobs.get_job($1, NULL, '1 minute')",
        "SELECT id FROM app_jobs.get_jobs($1, NULL, '1 minute', 5)",
    ] {
        ok(c.batch_execute("TRUNCATE app_jobs.jobs"), "truncate");
        let first: i64 = ok(
            c.query_one(
                &format!(
                    "SELECT (app_jobs.add_job('{TENANT}', 't', queue_name := 'q', run_at := now() - interval '2 minutes')).id"
                ),
                &[],
            ),
            "add first",
        )
        .get(0);
        ok(
            c.batch_execute(&format!(
                "SELECT app_jobs.add_job('{TENANT}', 't', queue_name := 'q', run_at := now() - interval '1 minute')"
            )),
            "add second",
        );
        let claimed: i64 = ok(
            c.query_one("SELECT (app_jobs.get_job('dead-worker')).id", &[]),
            "dead worker claims",
        )
        .get(0);
        assert_eq!(claimed, first);
        // the dead worker's locks are an hour old
        ok(
            c.batch_execute(
                "UPDATE app_jobs.jobs SET locked_at = now() - interval '1 hour' WHERE locked_by = 'dead-worker'; \
                 UPDATE app_jobs.job_queues SET locked_at = now() - interval '1 hour' WHERE locked_by = 'dead-worker'",
            ),
            "age the locks",
        );
        let mut holder = db.client();
        ok(
            holder.batch_execute(&format!(
                "BEGIN; SELECT 1 FROM app_jobs.jobs WHERE id = {first} FOR UPDATE"
            )),
            "hold the expired job's row",
        );
        let rows = ok(c.query(claim, &[&"w2"]), "claim while the row is busy");
        let ids: Vec<Option<i64>> = rows.iter().map(|r| r.get(0)).collect();
        assert!(
            ids.iter().all(Option::is_none),
            "{claim}: claimed {ids:?} while job {first} of the queue is still locked"
        );
        ok(holder.batch_execute("COMMIT"), "release the row");
        let rows = ok(c.query(claim, &[&"w2"]), "claim after");
        let ids: Vec<Option<i64>> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(
            ids,
            [Some(first)],
            "{claim}: the recovered job runs again, alone"
        );
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) FROM app_jobs.jobs WHERE queue_name = 'q' AND locked_at IS NOT NULL"
            ),
            1
        );
    }
}

// ---------------------------------------------------------------------------
// 9. Notifications.

/// A listening connection and a way to wait for what it hears.
struct Listener {
    client: Client,
}

impl Listener {
    fn new(db: &TestDb) -> Listener {
        let mut client = db.client();
        ok(
            client.batch_execute(
                "LISTEN \"jobs:insert\"; LISTEN \"scheduled_jobs:insert\"; LISTEN test_marker",
            ),
            "listen",
        );
        Listener { client }
    }

    /// Every notification up to and including the marker that `sender`
    /// sends now, after its previous commits (notifications of one sender
    /// arrive in commit order), as (channel, payload).
    fn until_marker(&mut self, sender: &mut Client) -> Vec<(String, String)> {
        ok(sender.batch_execute("NOTIFY test_marker"), "marker");
        let mut heard = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut notifications = self.client.notifications();
        let mut iter = notifications.timeout_iter(Duration::from_millis(200));
        loop {
            match iter.next() {
                Ok(Some(n)) if n.channel() == "test_marker" => return heard,
                Ok(Some(n)) => heard.push((n.channel().to_owned(), n.payload().to_owned())),
                Err(e) => panic!("notifications: {e}"),
                Ok(None) => assert!(
                    Instant::now() < deadline,
                    "no marker within 10 s; heard {heard:?}"
                ),
            }
        }
    }
}

#[test]
fn add_job_of_a_runnable_job_notifies_jobs_insert() {
    let db = deployed("notify_runnable");
    let mut listener = Listener::new(&db);
    let mut sender = db.client();
    ok(
        sender.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'send_email')"
        )),
        "add_job",
    );
    let heard = listener.until_marker(&mut sender);
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].0, "jobs:insert");
    let payload: Value = serde_json::from_str(&heard[0].1).unwrap();
    assert_eq!(payload, json!({"task_identifier": "send_email"}));
}

#[test]
fn add_job_of_a_future_job_does_not_notify() {
    let db = deployed("notify_future");
    let mut listener = Listener::new(&db);
    let mut sender = db.client();
    ok(
        sender.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'later', run_at := now() + interval '1 hour')"
        )),
        "add_job",
    );
    assert_eq!(listener.until_marker(&mut sender), []);
    assert_eq!(count(&mut sender, "SELECT count(*) FROM app_jobs.jobs"), 1);
}

#[test]
fn add_scheduled_job_notifies_scheduled_jobs_insert() {
    let db = deployed("notify_scheduled");
    let mut listener = Listener::new(&db);
    let mut sender = db.client();
    ok(
        sender.batch_execute(&format!(
            "SELECT app_jobs.add_scheduled_job('{TENANT}', 'nightly', \
             schedule_info := '{{\"rule\": \"0 3 * * *\"}}')"
        )),
        "add_scheduled_job",
    );
    let heard = listener.until_marker(&mut sender);
    let channels: Vec<&str> = heard.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(channels, ["scheduled_jobs:insert"], "{heard:?}");
}

#[test]
fn notify_off_sends_nothing() {
    let db = deployed("notify_off");
    let mut listener = Listener::new(&db);
    let mut sender = db.client();
    ok(
        sender.batch_execute(&format!(
            "BEGIN; SET LOCAL app_jobs.notify = 'off'; \
             SELECT app_jobs.add_job('{TENANT}', 'quiet'); \
             SELECT app_jobs.add_jobs('[{{\"db_id\": \"{TENANT}\", \"identifier\": \"quiet\"}}]'); COMMIT"
        )),
        "add_job with notify off",
    );
    assert_eq!(listener.until_marker(&mut sender), []);
    assert_eq!(count(&mut sender, "SELECT count(*) FROM app_jobs.jobs"), 2);
}

/// `coalesce`: while one transaction that notifies is open, another one's
/// notification is skipped (its job is still added); once the first has
/// committed, the next transaction notifies again.
#[test]
fn notify_coalesce_skips_while_another_notifying_transaction_is_open() {
    let db = deployed("notify_coalesce");
    let mut listener = Listener::new(&db);
    let mut first = db.client();
    let mut second = db.client();
    let add = |task: &str| {
        format!(
            "SET LOCAL app_jobs.notify = 'coalesce'; SELECT app_jobs.add_job('{TENANT}', '{task}');"
        )
    };
    ok(
        first.batch_execute(&format!("BEGIN; {}", add("first"))),
        "first",
    );
    ok(
        second.batch_execute(&format!("BEGIN; {} COMMIT", add("second"))),
        "second, while the first is open",
    );
    ok(first.batch_execute("COMMIT"), "first commits");
    ok(
        second.batch_execute(&format!("BEGIN; {} COMMIT", add("third"))),
        "third, after the first",
    );
    let heard = listener.until_marker(&mut second);
    let tasks: Vec<Value> = heard
        .iter()
        .map(|(_, p)| serde_json::from_str::<Value>(p).unwrap()["task_identifier"].clone())
        .collect();
    // notifications of different senders arrive in commit order: the first
    // sender's commit came before the third job's
    assert_eq!(tasks, [json!("first"), json!("third")], "{heard:?}");
    assert_eq!(count(&mut second, "SELECT count(*) FROM app_jobs.jobs"), 3);
}

#[test]
fn a_misspelt_notify_mode_is_an_error_and_adds_nothing() {
    let db = deployed("notify_misspelt");
    let mut client = db.client();
    let err = client
        .batch_execute(&format!(
            "SET app_jobs.notify = 'coalesced'; SELECT app_jobs.add_job('{TENANT}', 't')"
        ))
        .unwrap_err();
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("22023"),
        "{}",
        describe_sql_error(&err)
    );
    assert!(
        describe_sql_error(&err)
            .contains("app_jobs.notify must be on, off or coalesce, got coalesced"),
        "{}",
        describe_sql_error(&err)
    );
    ok(client.batch_execute("RESET app_jobs.notify"), "reset");
    assert_eq!(count(&mut client, "SELECT count(*) FROM app_jobs.jobs"), 0);
}

// ---------------------------------------------------------------------------
// Batch API under concurrency.

/// 8 connections claim with `get_jobs` (batch 7) and complete with
/// `complete_claimed_jobs`: every job is claimed exactly once, and no named
/// queue ever has two running jobs, neither within one batch nor across
/// the batches of different workers (an audit trigger checks it at every
/// claim).
#[test]
fn eight_workers_get_jobs_in_batches_claim_each_job_once_and_respect_named_queues() {
    const WORKERS: usize = 8;
    const QUEUES: i64 = 6;
    const QUEUED_PER_QUEUE: i64 = 40;
    const FREE: i64 = 2_000;
    let db = deployed("get_jobs_race");
    let mut setup = db.client();
    ok(
        setup.batch_execute(&format!(
            "CREATE TABLE public.claim_audit (job_id bigint, attempt int, queue_name text, worker text);
             CREATE FUNCTION public.audit_claim() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF NEW.queue_name IS NOT NULL AND EXISTS (
                    SELECT 1 FROM app_jobs.jobs j
                     WHERE j.queue_name = NEW.queue_name AND j.locked_at IS NOT NULL AND j.id <> NEW.id) THEN
                 RAISE EXCEPTION 'queue % has two running jobs', NEW.queue_name;
               END IF;
               INSERT INTO public.claim_audit VALUES (NEW.id, NEW.attempts, NEW.queue_name, NEW.locked_by);
               RETURN NEW;
             END $$;
             CREATE TRIGGER audit_claim AFTER UPDATE OF locked_at ON app_jobs.jobs
               FOR EACH ROW WHEN (NEW.locked_at IS NOT NULL AND OLD.locked_at IS NULL)
               EXECUTE FUNCTION public.audit_claim();
             SELECT count(*) FROM app_jobs.add_jobs(
               (SELECT jsonb_agg(jsonb_build_object('db_id', '{TENANT}', 'identifier', 'bulk',
                                                    'payload', jsonb_build_object('n', n)))
                  FROM generate_series(1, {FREE}) n));
             SELECT count(*) FROM app_jobs.add_jobs(
               (SELECT jsonb_agg(jsonb_build_object('db_id', '{TENANT}', 'identifier', 'serial',
                                                    'queue_name', 'q' || (n % {QUEUES})))
                  FROM generate_series(1, {QUEUES} * {QUEUED_PER_QUEUE}) n));"
        )),
        "setup",
    );
    let total = FREE + QUEUES * QUEUED_PER_QUEUE;
    let start = Arc::new(Barrier::new(WORKERS + 1));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let worker = format!("batch-worker-{w}");
                start.wait();
                let mut claimed = Vec::new();
                let mut empty = 0;
                while empty < 20 {
                    let rows = ok(
                        client.query(
                            "SELECT id, queue_name FROM app_jobs.get_jobs($1, batch_size := 7)",
                            &[&worker],
                        ),
                        "get_jobs",
                    );
                    if rows.is_empty() {
                        empty += 1;
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    empty = 0;
                    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                    let queues: Vec<String> = rows
                        .iter()
                        .filter_map(|r| r.get::<_, Option<String>>(1))
                        .collect();
                    let distinct: HashSet<&String> = queues.iter().collect();
                    assert_eq!(
                        distinct.len(),
                        queues.len(),
                        "one batch took two jobs of a queue: {queues:?}"
                    );
                    let done: Vec<i64> = ok(
                        client.query(
                            "SELECT id FROM app_jobs.complete_claimed_jobs($1, $2)",
                            &[&worker, &ids],
                        ),
                        "complete_claimed_jobs",
                    )
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                    assert_eq!(
                        done.len(),
                        ids.len(),
                        "{worker} could not complete its batch"
                    );
                    claimed.extend(ids);
                }
                claimed
            })
        })
        .collect();
    start.wait();
    let claims: Vec<i64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let distinct: HashSet<i64> = claims.iter().copied().collect();
    assert_eq!(distinct.len(), claims.len(), "a job was claimed twice");
    assert_eq!(claims.len() as i64, total, "every job claimed once");
    assert_eq!(count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"), 0);
    assert_eq!(
        count(&mut setup, "SELECT count(*) FROM public.claim_audit"),
        total
    );
    assert_eq!(
        count(
            &mut setup,
            "SELECT count(*) FROM (SELECT job_id FROM public.claim_audit GROUP BY job_id HAVING count(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        count(&mut setup, "SELECT count(*) FROM app_jobs.job_queues"),
        0,
        "queue rows left"
    );
}

/// Job keys, task identifiers and queue names are data: hostile text is
/// stored and matched exactly and never changes a statement.
#[test]
fn hostile_keys_tasks_and_queue_names_are_stored_as_data() {
    let db = deployed("hostile_names");
    let hostile = [
        "'); DROP TABLE app_jobs.jobs; --",
        "\"quoted\" name",
        "100% \\ backslash \\\\",
        "$$ dollar $$",
        "ünïcødé ☃",
        "a'b\"c`d",
    ];
    let mut client = db.client();
    for (i, text) in hostile.iter().enumerate() {
        let row = client
            .query_one(
                "SELECT id, task_identifier, key, queue_name FROM app_jobs.add_job(\
                   '00000000-0000-0000-0000-000000000001'::uuid, $1::text, '{}'::json, $2::text, $3::text)",
                &[text, &format!("{text}{i}"), &format!("q{i}{text}")],
            )
            .unwrap_or_else(|e| panic!("{}", common::describe_sql_error(&e)));
        assert_eq!(row.get::<_, String>(1), *text);
        assert_eq!(row.get::<_, String>(2), format!("{text}{i}"));
        assert_eq!(row.get::<_, String>(3), format!("q{i}{text}"));
        let claimed = client
            .query_one(
                "SELECT id, task_identifier FROM app_jobs.get_job('w', ARRAY[$1::text])",
                &[text],
            )
            .unwrap();
        assert_eq!(
            claimed.get::<_, Option<i64>>(0),
            Some(row.get::<_, i64>(0)),
            "claim by task {text:?}"
        );
        client
            .query_one(
                "SELECT id FROM app_jobs.complete_job('w', $1)",
                &[&row.get::<_, i64>(0)],
            )
            .unwrap();
    }
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'app_jobs'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        tables, 3,
        "jobs, scheduled_jobs and job_queues are all still there"
    );
    let queues: i64 = client
        .query_one("SELECT count(*) FROM app_jobs.job_queues", &[])
        .unwrap()
        .get(0);
    assert_eq!(queues, 0, "every queue row went with its last job");
}

// ---------------------------------------------------------------------------
// 12. Operating the queue (pgpm-jobs @0.6.0): stats, pause, retry, cancel.

/// `job_stats` under eight concurrent workers: in every snapshot each job is
/// counted in exactly one state and the running and failed counts agree
/// with the table; at the end, with no claim in flight, the counts are what
/// the workers did (completed jobs gone, jobs failed for good, jobs waiting
/// for a retry or due again), whatever the timing.
#[test]
fn job_stats_counts_every_state_right_under_concurrent_workers() {
    const JOBS: i64 = 300;
    const WORKERS: usize = 8;
    let db = deployed("stats_concurrent");
    let mut setup = db.client();
    // n % 3 = 0: completed; 1: fails for good (max_attempts 1); 2: fails
    // and waits for a retry (max_attempts 25).  Half of them in two named queues.
    ok(
        setup.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'stat', json_build_object('n', n), \
                    queue_name := CASE n % 4 WHEN 0 THEN 'sq-a' WHEN 1 THEN 'sq-b' END, \
                    max_attempts := CASE WHEN n % 3 = 1 THEN 1 ELSE 25 END) \
               FROM generate_series(1, {JOBS}) AS n"
        )),
        "enqueue",
    );
    let running = Arc::new(AtomicBool::new(true));
    let monitor = {
        let mut client = db.client();
        let running = Arc::clone(&running);
        thread::spawn(move || {
            let mut samples = 0u64;
            while running.load(Ordering::SeqCst) || samples == 0 {
                let mut tx = ok(
                    client
                        .build_transaction()
                        .isolation_level(postgres::IsolationLevel::RepeatableRead)
                        .start(),
                    "snapshot",
                );
                let stats = ok(
                    tx.query_one(
                        "SELECT coalesce(sum(ready + scheduled + running + retrying + failed + paused), 0)::bigint, \
                                coalesce(sum(running), 0)::bigint, coalesce(sum(failed), 0)::bigint \
                           FROM app_jobs.job_stats()",
                        &[],
                    ),
                    "job_stats",
                );
                let table = ok(
                    tx.query_one(
                        "SELECT count(*), count(*) FILTER (WHERE locked_at IS NOT NULL), \
                                count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts) \
                           FROM app_jobs.jobs",
                        &[],
                    ),
                    "table counts",
                );
                let (s, t): ((i64, i64, i64), (i64, i64, i64)) = (
                    (stats.get(0), stats.get(1), stats.get(2)),
                    (table.get(0), table.get(1), table.get(2)),
                );
                assert_eq!(
                    s, t,
                    "job_stats (all, running, failed) vs the table in one snapshot"
                );
                ok(tx.commit(), "end snapshot");
                samples += 1;
            }
            samples
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            thread::spawn(move || {
                let worker = format!("stat-worker-{w}");
                loop {
                    let row = ok(
                        client.query_one(
                            "SELECT id, (payload->>'n')::int FROM app_jobs.get_job($1, ARRAY['stat'])",
                            &[&worker],
                        ),
                        "get_job",
                    );
                    let Some(id) = row.get::<_, Option<i64>>(0) else { break };
                    let n: i32 = row.get(1);
                    let done: Option<i64> = if n % 3 == 0 {
                        ok(client.query_one("SELECT id FROM app_jobs.complete_job($1, $2)", &[&worker, &id]), "complete").get(0)
                    } else {
                        ok(client.query_one("SELECT id FROM app_jobs.fail_job($1, $2, 'no')", &[&worker, &id]), "fail").get(0)
                    };
                    assert_eq!(done, Some(id), "{worker} lost its job {id}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    running.store(false, Ordering::SeqCst);
    let samples = monitor.join().unwrap();
    eprintln!("job_stats: {samples} consistent snapshots during the run");

    let row = ok(
        setup.query_one(
            "SELECT sum(ready)::bigint, sum(scheduled)::bigint, sum(running)::bigint, \
                    sum(retrying)::bigint, sum(failed)::bigint, sum(paused)::bigint \
               FROM app_jobs.job_stats()",
            &[],
        ),
        "final stats",
    );
    let (ready, scheduled, running, retrying, failed, paused): (i64, i64, i64, i64, i64, i64) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    );
    assert_eq!(running, 0, "no claim in flight");
    assert_eq!(paused, 0);
    assert_eq!(scheduled, 0, "every job was attempted");
    assert_eq!(failed, JOBS / 3, "jobs failed for good");
    // a retry is due after e^attempts seconds: some may be due again by now
    assert_eq!(
        retrying + ready,
        JOBS / 3,
        "jobs waiting for a retry or due again"
    );
    assert_eq!(
        count(&mut setup, "SELECT count(*) FROM app_jobs.jobs"),
        2 * JOBS / 3
    );
    common::assert_job_queues_exact_and_unlocked(&mut setup);
}

/// A paused queue: concurrent workers (get_job and get_jobs) claim every
/// other job and none of it, while a producer keeps enqueueing into it; a
/// transaction that holds a pause open blocks no worker; after resume the
/// queue runs from its first job, one at a time, and its count stays exact.
#[test]
fn a_paused_queue_is_not_claimed_by_concurrent_workers_and_resumes_where_it_was() {
    const WORKERS: usize = 6;
    let db = deployed("paused_concurrent");
    let mut setup = db.client();
    ok(
        setup.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'p', json_build_object('n', n), \
                    queue_name := CASE WHEN n % 3 = 0 THEN 'held' WHEN n % 3 = 1 THEN 'open' END, \
                    priority := CASE WHEN n % 3 = 0 THEN -10 ELSE 0 END) \
               FROM generate_series(1, 300) AS n; \
             SELECT app_jobs.add_job('{TENANT}', 'p', queue_name := 'side') FROM generate_series(1, 30); \
             SELECT app_jobs.pause_queue('held');"
        )),
        "enqueue and pause",
    );

    // A pause of a third queue left uncommitted for the whole run: workers
    // skip that queue's row meanwhile (SKIP LOCKED), none waits for it.
    let mut pauser = db.client();
    let mut open_pause = ok(pauser.transaction(), "begin");
    ok(
        open_pause.execute("SELECT app_jobs.pause_queue('side')", &[]),
        "pause side, uncommitted",
    );

    let producing = Arc::new(AtomicBool::new(true));
    let producer = {
        let mut client = db.client();
        let producing = Arc::clone(&producing);
        thread::spawn(move || {
            let _done = ClearOnDrop(producing);
            for _ in 0..50 {
                ok(
                    client.execute(
                        &format!("SELECT app_jobs.add_job('{TENANT}', 'p', queue_name := 'held', priority := -10)"),
                        &[],
                    ),
                    "enqueue into the paused queue",
                );
            }
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            let producing = Arc::clone(&producing);
            thread::spawn(move || {
                // a worker that waited on the open pause would fail here
                ok(client.batch_execute("SET lock_timeout = '60s'"), "lock_timeout");
                let worker = format!("paused-worker-{w}");
                let mut claimed: Vec<(i64, Option<String>)> = Vec::new();
                loop {
                    let rows = if w % 2 == 0 {
                        ok(client.query("SELECT id, queue_name FROM app_jobs.get_job($1) WHERE id IS NOT NULL", &[&worker]), "get_job")
                    } else {
                        ok(client.query("SELECT id, queue_name FROM app_jobs.get_jobs($1, batch_size := 5)", &[&worker]), "get_jobs")
                    };
                    if rows.is_empty() {
                        if producing.load(Ordering::SeqCst) {
                            continue;
                        }
                        break;
                    }
                    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                    claimed.extend(rows.iter().map(|r| (r.get(0), r.get(1))));
                    let done = ok(
                        client.query("SELECT id FROM app_jobs.complete_claimed_jobs($1, $2)", &[&worker, &ids]),
                        "complete",
                    );
                    assert_eq!(done.len(), ids.len(), "{worker} lost a job of {ids:?}");
                }
                claimed
            })
        })
        .collect();
    producer.join().unwrap();
    let claimed: Vec<(i64, Option<String>)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    ok(open_pause.rollback(), "the open pause is never committed");
    let side = ok(
        setup.query_one("SELECT id, queue_name FROM app_jobs.get_job('s1')", &[]),
        "claim after the rollback",
    );
    assert_eq!(
        side.get::<_, Option<String>>(1).as_deref(),
        Some("side"),
        "the queue whose pause was rolled back runs"
    );
    let side_id: i64 = side.get(0);
    ok(
        setup.execute("SELECT app_jobs.complete_job('s1', $1)", &[&side_id]),
        "complete side",
    );

    let from_held: Vec<_> = claimed
        .iter()
        .filter(|(_, q)| q.as_deref() == Some("held"))
        .collect();
    assert!(
        from_held.is_empty(),
        "jobs of the paused queue were claimed: {from_held:?}"
    );
    assert_eq!(
        claimed.len(),
        200,
        "every job of the other queues and of no queue"
    );
    assert_eq!(
        count(
            &mut setup,
            "SELECT count(*) FROM app_jobs.jobs WHERE queue_name = 'held' AND attempts = 0 AND locked_at IS NULL"
        ),
        150,
        "the paused queue's jobs, untouched"
    );
    assert_eq!(
        count(
            &mut setup,
            "SELECT job_count::bigint FROM app_jobs.job_queues WHERE queue_name = 'held' AND paused_at IS NOT NULL"
        ),
        150
    );
    assert_eq!(
        count(
            &mut setup,
            "SELECT sum(paused)::bigint FROM app_jobs.job_stats()"
        ),
        150
    );

    // resume: its first job next, then one at a time
    let first = count(
        &mut setup,
        "SELECT min(id) FROM app_jobs.jobs WHERE queue_name = 'held'",
    );
    ok(
        setup.execute("SELECT app_jobs.resume_queue('held')", &[]),
        "resume",
    );
    let mut other = db.client();
    assert_eq!(
        count(&mut setup, "SELECT id FROM app_jobs.get_job('r1')"),
        first,
        "resumes with its first job"
    );
    assert_eq!(
        count(
            &mut other,
            "SELECT count(*) FROM app_jobs.get_jobs('r2', batch_size := 10) WHERE queue_name = 'held'"
        ),
        0,
        "still serial"
    );
    ok(
        setup.execute("SELECT app_jobs.complete_job('r1', $1)", &[&first]),
        "complete",
    );
    ok(
        setup.execute(
            "SELECT app_jobs.complete_claimed_jobs('r2', ARRAY(SELECT id FROM app_jobs.jobs WHERE locked_by = 'r2'))",
            &[],
        ),
        "complete r2's side job",
    );
    assert_eq!(
        count(
            &mut setup,
            "SELECT sum(paused)::bigint FROM app_jobs.job_stats()"
        ),
        0
    );
    common::assert_job_queues_exact_and_unlocked(&mut setup);
}

/// Retry, cancel and purge racing workers on named queues: no running job
/// is cancelled (its worker completes it) nor retried (its worker sees the
/// attempt it claimed), and job_queues stays exact.
#[test]
fn retry_cancel_and_purge_racing_workers_keep_counts_exact_and_spare_running_jobs() {
    const WORKERS: usize = 6;
    let db = deployed("ops_concurrent");
    let mut setup = db.client();
    ok(
        setup.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', CASE WHEN n % 2 = 0 THEN 'keep' ELSE 'drop' END, \
                    json_build_object('fail', n % 3 = 0), \
                    queue_name := 'rq-' || (n % 5), \
                    max_attempts := CASE WHEN n % 3 = 0 THEN 1 ELSE 25 END) \
               FROM generate_series(1, 400) AS n"
        )),
        "enqueue",
    );
    let admin_running = Arc::new(AtomicBool::new(true));
    let admin = {
        let mut client = db.client();
        let admin_running = Arc::clone(&admin_running);
        thread::spawn(move || {
            let _done = ClearOnDrop(admin_running);
            let mut touched = 0u64;
            for round in 0..40 {
                let sql = match round % 4 {
                    0 => {
                        "SELECT count(*) FROM app_jobs.retry_failed_jobs(task_identifier := 'keep')"
                    }
                    1 => "SELECT count(*) FROM app_jobs.cancel_jobs(task_identifier := 'drop')",
                    2 => {
                        "SELECT count(*) FROM app_jobs.purge_failed_jobs(interval '0', queue_name := 'rq-1')"
                    }
                    _ => "SELECT count(*) FROM app_jobs.cancel_jobs(queue_name := 'rq-2')",
                };
                let n: i64 = ok(client.query_one(sql, &[]), sql).get(0);
                touched += n as u64;
                thread::yield_now();
            }
            touched
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut client = db.client();
            let admin_running = Arc::clone(&admin_running);
            thread::spawn(move || {
                let worker = format!("ops-worker-{w}");
                let mut handled = 0u64;
                loop {
                    let row = ok(
                        client.query_one(
                            "SELECT id, attempts, (payload->>'fail')::boolean FROM app_jobs.get_job($1)",
                            &[&worker],
                        ),
                        "get_job",
                    );
                    let Some(id) = row.get::<_, Option<i64>>(0) else {
                        if admin_running.load(Ordering::SeqCst) {
                            continue;
                        }
                        break;
                    };
                    let (attempts, fail): (i32, bool) = (row.get(1), row.get(2));
                    let back = if fail {
                        ok(client.query_one("SELECT id, attempts FROM app_jobs.fail_job($1, $2, 'no')", &[&worker, &id]), "fail")
                    } else {
                        ok(client.query_one("SELECT id, attempts FROM app_jobs.complete_job($1, $2)", &[&worker, &id]), "complete")
                    };
                    assert_eq!(back.get::<_, Option<i64>>(0), Some(id), "{worker}'s running job {id} was taken away");
                    assert_eq!(back.get::<_, Option<i32>>(1), Some(attempts), "{worker}'s running job {id} was reset");
                    handled += 1;
                }
                handled
            })
        })
        .collect();
    let handled: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let touched = admin.join().unwrap();
    eprintln!(
        "ops race: {handled} jobs handled by workers, {touched} rows touched by admin functions"
    );
    common::assert_job_queues_exact_and_unlocked(&mut setup);
    assert_eq!(
        count(
            &mut setup,
            "SELECT count(*) FROM app_jobs.jobs WHERE locked_at IS NOT NULL"
        ),
        0
    );
}

/// The deadlock of docs/reliability.md ("a transaction that touches two
/// named queues"): up to `@0.6.0` the queue counter row was locked by each
/// `add_job` until commit, so transactions that enqueued into the same
/// queues in different orders failed with 40P01. Since `@0.7.0` the counts
/// are applied at commit, queue rows locked in one order: eight sessions
/// enqueueing into shuffled sets of named queues, with a pause between adds
/// to keep every transaction open across the others', all commit, and the
/// counts are exact.
#[test]
fn transactions_enqueueing_into_shuffled_sets_of_named_queues_never_deadlock() {
    const SESSIONS: u64 = 8;
    const TRANSACTIONS: u64 = 25;
    const QUEUES: u64 = 6;
    let db = deployed("shuffled_queues");
    let start = Barrier::new(SESSIONS as usize);
    thread::scope(|s| {
        for session in 0..SESSIONS {
            let (db, start) = (&db, &start);
            s.spawn(move || {
                let mut client = db.client();
                let mut rng = common::Rng::new(0x5eed + session);
                start.wait();
                for _ in 0..TRANSACTIONS {
                    let mut queues: Vec<u64> = (0..QUEUES).collect();
                    for i in (1..queues.len()).rev() {
                        queues.swap(i, rng.below(i as u64 + 1) as usize);
                    }
                    queues.truncate(2 + rng.below(QUEUES - 1) as usize);
                    let mut tx = ok(client.transaction(), "begin");
                    for q in &queues {
                        ok(
                            tx.execute(
                                &format!(
                                    "SELECT app_jobs.add_job('{TENANT}', 'chain', queue_name := $1)"
                                ),
                                &[&format!("q{q}")],
                            ),
                            "add_job",
                        );
                        thread::sleep(Duration::from_millis(2));
                    }
                    tx.commit().unwrap_or_else(|e| {
                        panic!("session {session}: commit: {}", describe_sql_error(&e))
                    });
                }
            });
        }
    });
    let mut client = db.client();
    common::assert_job_queues_exact_and_unlocked(&mut client);
    assert!(
        count(&mut client, "SELECT count(*) FROM app_jobs.jobs")
            >= (SESSIONS * TRANSACTIONS * 2) as i64
    );
}

/// The chaining case of the same deadlock: a worker completes a job of one
/// named queue and, in the same transaction, enqueues the next step into
/// another, while a second worker does the reverse. Up to `@0.6.0`
/// complete_job locked its queue's row to unlock it and held it to commit;
/// since `@0.7.0` the unlock happens at commit with the counts, in one
/// order. Both workers commit every round, and their queues end unlocked.
#[test]
fn workers_completing_in_one_queue_and_enqueueing_into_another_never_deadlock() {
    const ROUNDS: usize = 20;
    let db = deployed("chained_queues");
    let mut setup = db.client();
    for q in ["a", "b"] {
        ok(
            setup.batch_execute(&format!(
                "SELECT app_jobs.add_job('{TENANT}', 'step-{q}', queue_name := '{q}')
                   FROM generate_series(1, {ROUNDS})"
            )),
            "seed",
        );
    }
    thread::scope(|s| {
        for (worker, own, next) in [("w-a", "a", "b"), ("w-b", "b", "a")] {
            let db = &db;
            s.spawn(move || {
                let mut client = db.client();
                for round in 0..ROUNDS {
                    // the worker's own queue is free between rounds: claim its head
                    let id: i64 = loop {
                        let row = ok(
                            client.query_one(
                                "SELECT id FROM app_jobs.get_job($1, ARRAY[$2])",
                                &[&worker, &format!("step-{own}")],
                            ),
                            "get_job",
                        );
                        match row.get::<_, Option<i64>>(0) {
                            Some(id) => break id,
                            None => thread::sleep(Duration::from_millis(1)),
                        }
                    };
                    let mut tx = ok(client.transaction(), "begin");
                    let done = ok(
                        tx.query_one(
                            "SELECT id FROM app_jobs.complete_job($1, $2)",
                            &[&worker, &id],
                        ),
                        "complete_job",
                    );
                    assert_eq!(
                        done.get::<_, Option<i64>>(0),
                        Some(id),
                        "{worker} round {round}"
                    );
                    thread::sleep(Duration::from_millis(5));
                    ok(
                        tx.execute(
                            &format!(
                                "SELECT app_jobs.add_job('{TENANT}', 'next', queue_name := $1)"
                            ),
                            &[&next],
                        ),
                        "add_job",
                    );
                    tx.commit().unwrap_or_else(|e| {
                        panic!("{worker} round {round}: commit: {}", describe_sql_error(&e))
                    });
                }
            });
        }
    });
    let mut client = db.client();
    common::assert_job_queues_exact_and_unlocked(&mut client);
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'next'"
        ),
        2 * ROUNDS as i64
    );
}

/// The catalog that a release's definitions leave: every app_jobs function
/// (its full definition) and every trigger on app_jobs tables.
fn app_jobs_definitions(client: &mut Client) -> Vec<String> {
    ok(
        client.query(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p
              WHERE p.pronamespace = 'app_jobs'::regnamespace AND p.prokind = 'f'
             UNION ALL
             SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid
              WHERE c.relnamespace = 'app_jobs'::regnamespace AND NOT t.tgisinternal
             ORDER BY 1",
            &[],
        ),
        "definitions",
    )
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// `@0.7.0` reverts to `@0.6.0` cleanly: with queued jobs and a running
/// one, `revert --to pgpm-jobs:@0.6.0` leaves exactly the definitions a
/// deploy of `@0.6.0` makes, the queue counts exact and the running job's
/// queue still locked; deploying again completes that job with its queue
/// unlocked at commit, and verify passes.
#[test]
fn release_0_7_0_reverts_to_0_6_0_exactly_and_deploys_again() {
    let reference = TestDb::new("release_060_reference");
    jobsctl_on(&reference)
        .args(["deploy", "--to", "pgpm-jobs:@0.6.0"])
        .assert()
        .success();
    let expected = app_jobs_definitions(&mut reference.client());

    let db = deployed("release_070_revert");
    let mut client = db.client();
    ok(
        client.batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 't', queue_name := 'q' || (n % 3)) FROM generate_series(1, 12) n;
             SELECT app_jobs.add_job('{TENANT}', 't') FROM generate_series(1, 3);"
        )),
        "jobs",
    );
    let running: i64 = ok(
        client.query_one(
            "SELECT id FROM app_jobs.get_job('w1') WHERE queue_name IS NOT NULL",
            &[],
        ),
        "claim",
    )
    .get(0);
    jobsctl_on(&db)
        .args(["revert", "-y", "--to", "pgpm-jobs:@0.6.0"])
        .assert()
        .success();
    let mut client = db.client();
    assert_eq!(app_jobs_definitions(&mut client), expected);
    let locked = count(
        &mut client,
        "SELECT count(*) FROM app_jobs.job_queues WHERE locked_by = 'w1'",
    );
    assert_eq!(locked, 1, "the running job's queue stays locked");
    ok(
        client.batch_execute("UPDATE app_jobs.job_queues SET locked_at = NULL, locked_by = NULL"),
        "unlock for the check",
    );
    common::assert_job_queues_exact_and_unlocked(&mut client);
    ok(
        client.batch_execute(
            "UPDATE app_jobs.job_queues q SET locked_at = j.locked_at, locked_by = j.locked_by
               FROM app_jobs.jobs j WHERE j.queue_name = q.queue_name AND j.locked_by IS NOT NULL",
        ),
        "lock again",
    );

    jobsctl_on(&db).arg("deploy").assert().success();
    let mut client = db.client();
    let done = ok(
        client.query_one(
            "SELECT id FROM app_jobs.complete_job('w1', $1)",
            &[&running],
        ),
        "complete",
    );
    assert_eq!(done.get::<_, Option<i64>>(0), Some(running));
    common::assert_job_queues_exact_and_unlocked(&mut client);
    jobsctl_on(&db).arg("verify").assert().success();
}
