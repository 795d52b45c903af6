//! Scheduled jobs evaluated inside PostgreSQL: `app_jobs.schedule_next`
//! and `app_jobs.run_due_scheduled_jobs`, against a real server, with the
//! clock passed in explicitly (no test sleeps).
//!
//! - the SQL scripts `tests/sql/app_jobs/10_*` to `12_*` (cases table of
//!   next slots, validation on every write, firing rules);
//! - 8 callers, each with its own connection, firing a minute schedule over
//!   a simulated hour: exactly one job per slot (in lock step, and free
//!   running);
//! - downtime: the latest missed slot only, or a backfill window;
//! - upgrading a database deployed at `@0.1.0`, and reverting to it.
//!
//! The figures of the concurrency tests are printed with `eprintln!`
//! (`cargo test --test scheduling -- --nocapture` shows them).

mod common;

use common::jobsctl_on;
use common::pg::TestDb;
use common::queue::{Claimed, Expiry, complete, deployed, get_job};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

const DB_ID: &str = "30000000-0000-0000-0000-000000000001";
/// 2024-06-01 10:00:00 UTC: the simulated hour starts here. It lies in the
/// past, so that workers can claim the spawned jobs (`run_at` = slot).
const BASE: i64 = 1_717_236_000;
const CALLERS: usize = 8;
const MINUTES: i64 = 60;

/// A definition whose first slot is `first` (epoch seconds).
fn add_definition(client: &mut postgres::Client, task: &str, info: &str, first: i64) -> i64 {
    let id: i64 = client
        .query_one(
            "SELECT id FROM app_jobs.add_scheduled_job($1::text::uuid, $2::text, schedule_info := $3::text::json)",
            &[&DB_ID, &task, &info],
        )
        .unwrap_or_else(|e| panic!("add_scheduled_job: {}", common::describe_sql_error(&e)))
        .get(0);
    client
        .execute(
            "UPDATE app_jobs.scheduled_jobs SET next_run_at = to_timestamp($2::bigint) WHERE id = $1",
            &[&id, &first],
        )
        .unwrap();
    id
}

/// One fired slot: (scheduled job id, slot in epoch seconds, job id).
type Fired = (i64, i64, i64);

/// `run_due_scheduled_jobs(now := at)`, in its own transaction.
fn run_due(client: &mut postgres::Client, at: i64) -> Vec<Fired> {
    client
        .query(
            "SELECT scheduled_job_id, extract(epoch FROM slot)::bigint, job_id
               FROM app_jobs.run_due_scheduled_jobs(to_timestamp($1::bigint))",
            &[&at],
        )
        .unwrap_or_else(|e| panic!("run_due_scheduled_jobs: {}", common::describe_sql_error(&e)))
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// A worker's turn: claim and complete every runnable job; how many.
fn work(client: &mut postgres::Client, worker: &str) -> usize {
    let mut done = 0;
    while let Some(Claimed { id, .. }) = get_job(client, worker, Expiry::Default) {
        let completed = complete(client, worker, id);
        assert_eq!(completed, Some(id), "{worker} completes its job {id}");
        done += 1;
    }
    done
}

fn hhmm(epoch: i64) -> String {
    let minutes = epoch.div_euclid(60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[test]
fn sql_scripts_for_scheduling_pass() {
    let db = deployed("sched_sql");
    for file in [
        "10_schedule_next.sql",
        "11_schedule_validation.sql",
        "12_run_due_scheduled_jobs.sql",
    ] {
        let started = Instant::now();
        common::run_sql_file(&db, &format!("app_jobs/{file}"));
        eprintln!("{file}: passed in {:?}", started.elapsed());
    }
}

/// What each caller did in a concurrency run.
struct CallerReport {
    fired: Vec<Fired>,
    calls: usize,
    busy: Duration,
}

/// `CALLERS` threads, each with its own connection, step through the
/// simulated hour together: all call `run_due_scheduled_jobs` for minute m
/// at once (each with its own clock, a few seconds apart), then all work
/// off the spawned jobs, then the next minute. Returns the per-caller
/// reports and the jobs completed.
fn lock_step_hour(db: &TestDb) -> (Vec<CallerReport>, usize, Duration) {
    let barrier = Barrier::new(CALLERS);
    let reports = Mutex::new(BTreeMap::new());
    let completed = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for caller in 0..CALLERS {
            let (barrier, reports, completed) = (&barrier, &reports, &completed);
            scope.spawn(move || {
                let mut client = db.client();
                let worker = format!("worker-{caller}");
                let mut report = CallerReport {
                    fired: Vec::new(),
                    calls: 0,
                    busy: Duration::ZERO,
                };
                for minute in 0..MINUTES {
                    // clocks that disagree by up to 7 seconds
                    let at = BASE + minute * 60 + caller as i64;
                    barrier.wait();
                    let t = Instant::now();
                    report.fired.extend(run_due(&mut client, at));
                    report.busy += t.elapsed();
                    report.calls += 1;
                    barrier.wait();
                    completed.fetch_add(work(&mut client, &worker), Ordering::SeqCst);
                    barrier.wait();
                }
                reports.lock().unwrap().insert(caller, report);
            });
        }
    });
    let reports = reports.into_inner().unwrap().into_values().collect();
    (reports, completed.into_inner(), started.elapsed())
}

fn print_reports(title: &str, reports: &[CallerReport], completed: usize, elapsed: Duration) {
    let calls: usize = reports.iter().map(|r| r.calls).sum();
    let fired: usize = reports.iter().map(|r| r.fired.len()).sum();
    let busy: Duration = reports.iter().map(|r| r.busy).sum();
    eprintln!("{title}");
    eprintln!(
        "  {CALLERS} callers, {calls} calls of run_due_scheduled_jobs, {fired} jobs fired, {completed} completed by workers, {:.2} s wall, {:.2} ms per call on average",
        elapsed.as_secs_f64(),
        busy.as_secs_f64() * 1000.0 / calls.max(1) as f64
    );
    for (caller, report) in reports.iter().enumerate() {
        eprintln!(
            "  caller {caller}: {:>3} calls, fired {:>3}",
            report.calls,
            report.fired.len()
        );
    }
}

#[test]
fn eight_callers_fire_a_minute_schedule_once_per_slot() {
    let db = deployed("sched_lockstep");
    let mut admin = db.client();
    let sid = add_definition(&mut admin, "tick", r#"{"rule": "* * * * *"}"#, BASE);

    let (reports, completed, elapsed) = lock_step_hour(&db);
    print_reports(
        "lock step, one minute schedule over a simulated hour:",
        &reports,
        completed,
        elapsed,
    );

    let fired: Vec<Fired> = reports.iter().flat_map(|r| r.fired.clone()).collect();
    let slots: BTreeSet<i64> = fired.iter().map(|f| f.1).collect();
    let expected: BTreeSet<i64> = (0..MINUTES).map(|m| BASE + m * 60).collect();
    assert_eq!(fired.len(), 60, "exactly 60 jobs: {fired:?}");
    assert_eq!(slots, expected, "one job per minute slot");
    assert!(fired.iter().all(|f| f.0 == sid));
    let job_ids: BTreeSet<i64> = fired.iter().map(|f| f.2).collect();
    assert_eq!(job_ids.len(), 60, "60 distinct jobs");
    assert_eq!(completed, 60, "workers completed every spawned job");
    let row = admin
        .query_one(
            "SELECT extract(epoch FROM last_slot)::bigint, extract(epoch FROM next_run_at)::bigint,
                    (SELECT count(*) FROM app_jobs.jobs)
               FROM app_jobs.scheduled_jobs WHERE id = $1",
            &[&sid],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), BASE + 59 * 60, "last slot 10:59");
    assert_eq!(row.get::<_, i64>(1), BASE + 60 * 60, "next slot 11:00");
    assert_eq!(row.get::<_, i64>(2), 0, "no job left behind");
}

#[test]
fn eight_callers_split_ten_definitions() {
    let db = deployed("sched_ten");
    let mut admin = db.client();
    let ids: Vec<i64> = (0..10)
        .map(|i| {
            add_definition(
                &mut admin,
                &format!("task{i}"),
                r#"{"rule": "* * * * *"}"#,
                BASE,
            )
        })
        .collect();

    let (reports, completed, elapsed) = lock_step_hour(&db);
    print_reports(
        "lock step, ten minute schedules over a simulated hour:",
        &reports,
        completed,
        elapsed,
    );

    let fired: Vec<Fired> = reports.iter().flat_map(|r| r.fired.clone()).collect();
    let pairs: BTreeSet<(i64, i64)> = fired.iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(fired.len(), 600, "10 definitions x 60 slots");
    assert_eq!(pairs.len(), 600, "no (definition, slot) twice");
    for id in ids {
        assert_eq!(
            fired.iter().filter(|f| f.0 == id).count(),
            60,
            "definition {id}"
        );
    }
    assert_eq!(completed, 600);
}

#[test]
fn free_running_callers_never_fire_a_slot_twice() {
    let db = deployed("sched_free");
    let mut admin = db.client();
    let sid = add_definition(&mut admin, "tick", r#"{"rule": "* * * * *"}"#, BASE);
    let fired = Mutex::new(Vec::<Fired>::new());
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    let db = &db;
    std::thread::scope(|scope| {
        for caller in 0..CALLERS {
            let (fired, calls) = (&fired, &calls);
            scope.spawn(move || {
                let mut client = db.client();
                let worker = format!("worker-{caller}");
                for minute in 0..MINUTES {
                    let rows = run_due(&mut client, BASE + minute * 60 + caller as i64);
                    calls.fetch_add(1, Ordering::SeqCst);
                    fired.lock().unwrap().extend(rows);
                    work(&mut client, &worker);
                }
            });
        }
    });
    let fired = fired.into_inner().unwrap();
    let slots: BTreeSet<i64> = fired.iter().map(|f| f.1).collect();
    eprintln!(
        "free running: {CALLERS} callers, {} calls, {} slots fired, {} skipped (previous job still pending or running), 0 twice, {:.2} s",
        calls.into_inner(),
        fired.len(),
        MINUTES as usize - fired.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(slots.len(), fired.len(), "no slot fired twice: {fired:?}");
    assert!(fired.iter().all(|f| f.0 == sid));
    assert!(
        slots
            .iter()
            .all(|s| (BASE..BASE + MINUTES * 60).contains(s) && (s - BASE) % 60 == 0),
        "only minute slots of the hour: {slots:?}"
    );
    assert!(!fired.is_empty() && fired.len() <= 60);
}

#[test]
fn downtime_fires_the_latest_slot_or_backfills_the_window() {
    let db = deployed("sched_downtime");
    let mut client = db.client();
    let latest = add_definition(&mut client, "latest", r#"{"rule": "*/10 * * * *"}"#, BASE);
    let backfill = add_definition(
        &mut client,
        "backfill",
        r#"{"rule": "*/10 * * * *", "catchup": "backfill", "catchupWindow": "2 hours"}"#,
        BASE,
    );
    let window = add_definition(
        &mut client,
        "latest_within",
        r#"{"rule": "0 * * * *", "catchupWindow": "30 minutes"}"#,
        BASE,
    );
    let slots_of = |fired: &[Fired], id: i64| -> Vec<String> {
        fired
            .iter()
            .filter(|f| f.0 == id)
            .map(|f| hhmm(f.1))
            .collect()
    };

    // 10:00, on time: all three fire
    let fired = run_due(&mut client, BASE);
    assert_eq!(slots_of(&fired, latest), ["10:00"]);
    assert_eq!(slots_of(&fired, backfill), ["10:00"]);
    assert_eq!(slots_of(&fired, window), ["10:00"]);
    work(&mut client, "w");

    // nobody calls for three hours; the next call comes at 13:05
    let fired = run_due(&mut client, BASE + 3 * 3600 + 300);
    let (l, b, w) = (
        slots_of(&fired, latest),
        slots_of(&fired, backfill),
        slots_of(&fired, window),
    );
    eprintln!("downtime 10:00 -> 13:05, schedule */10 (and hourly):");
    eprintln!("  latest (default):            {} job(s): {l:?}", l.len());
    eprintln!("  backfill, window 2 hours:    {} job(s): {b:?}", b.len());
    eprintln!(
        "  latest, window 30 minutes:   {} job(s): {w:?} (13:00 is within 30 min of 13:05)",
        w.len()
    );
    assert_eq!(l, ["13:00"], "latest: only the latest missed slot");
    let expected: Vec<String> = (0..12).map(|i| hhmm(BASE + 3600 + 600 + i * 600)).collect();
    assert_eq!(
        b, expected,
        "backfill: 11:10 ... 13:00, every slot within 2 hours"
    );
    assert_eq!(w, ["13:00"]);
    let keys: i64 = client
        .query_one(
            "SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'backfill' AND run_at < to_timestamp($1::bigint)",
            &[&(BASE + 3 * 3600)],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        keys, 11,
        "the backfilled jobs are waiting, run_at = their slot"
    );
    assert_eq!(work(&mut client, "w"), 14);

    // back to normal: one slot each
    let fired = run_due(&mut client, BASE + 3 * 3600 + 600);
    assert_eq!(slots_of(&fired, latest), ["13:10"]);
    assert_eq!(slots_of(&fired, backfill), ["13:10"]);
    assert!(slots_of(&fired, window).is_empty());
    work(&mut client, "w");

    // a longer outage than the window: the hourly 'latest within 30
    // minutes' definition drops a slot that is too old
    let fired = run_due(&mut client, BASE + 5 * 3600 + 45 * 60);
    let w = slots_of(&fired, window);
    eprintln!(
        "  then down 13:10 -> 15:45: latest within 30 minutes fires {w:?} (15:00 is 45 min old)"
    );
    assert!(w.is_empty());
    let next: i64 = client
        .query_one(
            "SELECT extract(epoch FROM next_run_at)::bigint FROM app_jobs.scheduled_jobs WHERE id = $1",
            &[&window],
        )
        .unwrap()
        .get(0);
    assert_eq!(hhmm(next), "16:00");
}

#[test]
fn a_database_at_0_1_0_upgrades_and_reverts() {
    let db = TestDb::new("sched_upgrade");
    jobsctl_on(&db)
        .args(["deploy", "--to", "pgpm-jobs:@0.1.0"])
        .assert()
        .success();
    let mut client = db.client();
    // the first release's minimal validation accepts minute 99
    for (task, info) in [
        ("fine", r#"{"rule": "*/5 * * * *"}"#),
        ("broken", r#"{"rule": "99 * * * *"}"#),
    ] {
        client
            .execute(
                "SELECT app_jobs.add_scheduled_job($1::text::uuid, $2::text, schedule_info := $3::text::json)",
                &[&DB_ID, &task, &info],
            )
            .unwrap();
    }

    let output = jobsctl_on(&db).arg("deploy").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "upgrade deploy failed:\n{stderr}");
    assert!(
        stderr.contains("does not evaluate, it will not fire until it is fixed"),
        "a warning names the row that does not evaluate:\n{stderr}"
    );
    let rows = db.column(
        "SELECT task_identifier || ':' || (next_run_at IS NOT NULL) FROM app_jobs.scheduled_jobs ORDER BY task_identifier",
    );
    assert_eq!(
        rows,
        [
            Some("broken:false".to_owned()),
            Some("fine:true".to_owned())
        ]
    );
    // the old row keeps working for the first release's functions
    assert_eq!(
        db.value("SELECT (app_jobs.get_scheduled_job('s1', ARRAY['broken'])).task_identifier"),
        Some("broken".to_owned())
    );
    jobsctl_on(&db).arg("verify").assert().success();

    // back to 0.1.0: the new objects are gone, validate_schedule_info is the old one
    jobsctl_on(&db)
        .args(["revert", "--to", "pgpm-jobs:@0.1.0", "-y"])
        .assert()
        .success();
    assert_eq!(
        db.value(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'app_jobs.scheduled_jobs'::regclass
                AND attname IN ('next_run_at', 'last_slot') AND NOT attisdropped"
        ),
        Some("0".to_owned())
    );
    assert_eq!(
        db.value("SELECT to_regtype('app_jobs.schedule_spec') IS NULL AND to_regproc('app_jobs.run_due_scheduled_jobs') IS NULL"),
        Some("t".to_owned())
    );
    assert_eq!(
        db.value(r#"SELECT app_jobs.validate_schedule_info('{"rule": "99 * * * *"}')::text"#),
        Some(r#"{"rule": "99 * * * *"}"#.to_owned())
    );
    jobsctl_on(&db).arg("verify").assert().success();
    jobsctl_on(&db).arg("deploy").assert().success();
    jobsctl_on(&db).arg("verify").assert().success();
}
