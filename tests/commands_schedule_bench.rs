//! `jobsctl schedule run` and `jobsctl bench --short` against a real
//! PostgreSQL.

mod common;

use common::jobsctl_on;
use common::pg::TestDb;
use predicates::prelude::*;

#[test]
fn schedule_run_fires_each_due_slot_once() {
    let db = TestDb::new("schedule_run");
    // An hourly definition whose slot is the start of this hour: due now,
    // and the next slot is an hour away.
    jobsctl_on(&db).arg("deploy").assert().success();
    db.client()
        .batch_execute(
            "SELECT app_jobs.add_scheduled_job(gen_random_uuid(), 'tick', '{}'::json, '{\"rule\": \"0 * * * *\"}'::json);
             UPDATE app_jobs.scheduled_jobs SET next_run_at = date_trunc('hour', now());",
        )
        .unwrap();
    let output = jobsctl_on(&db)
        .args(["schedule", "run", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = common::json_stdout(&output);
    assert_eq!(report["runs"], 1);
    assert_eq!(report["fired"].as_array().unwrap().len(), 1);
    assert_eq!(report["fired"][0]["task_identifier"], "tick");
    // The slot is used up: a second call fires nothing.
    jobsctl_on(&db)
        .args(["schedule", "run", "--every", "0.1", "--max-runs", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tick").not());
    assert_eq!(
        db.value("SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'tick'")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn bench_short_runs_every_scenario_and_cleans_up() {
    let db = TestDb::new("bench_short");
    let output = jobsctl_on(&db)
        .args(["bench", "--short", "--clients", "2", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = common::json_stdout(&output);
    let results = report["results"].as_array().expect("a results list");
    for scenario in [
        "steady", "burndown", "stuck", "idle0", "idle", "enqueue", "batched",
    ] {
        assert!(
            results.iter().any(|r| r["scenario"] == scenario),
            "no {scenario} result: {report}"
        );
    }
    assert!(
        results
            .iter()
            .all(|r| r["operations"].as_u64().unwrap() > 0),
        "{report}"
    );
    // without --peers: the designs and keys of before (no node needed)
    assert!(
        results
            .iter()
            .all(|r| ["app_jobs", "app_jobs_coalesce", "bare", "naive"]
                .contains(&r["design"].as_str().unwrap())
                && r.get("ratio_to_peers").is_none()),
        "{report}"
    );
    assert!(
        report.get("peers").is_none() && report.get("targets").is_none(),
        "{report}"
    );
    // the deploy scenario: jobsctl deploy and its no-op redeploy, next to
    // psql --single-transaction of the same SQL (Debian's psql is there)
    let deploy = &report["deploy"];
    assert!(deploy["changes"].as_u64().unwrap() > 70, "{report}");
    assert!(
        deploy["jobsctl_seconds"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(deploy["noop_seconds"].as_f64().unwrap() > 0.0, "{report}");
    assert!(deploy["psql_seconds"].as_f64().unwrap() > 0.0, "{report}");
    assert!(deploy["ratio_to_psql"].as_f64().unwrap() > 0.0, "{report}");
    let samples = deploy["samples"].as_array().unwrap();
    for tool in [
        "jobsctl deploy",
        "jobsctl deploy --tx all",
        "jobsctl deploy again (nothing to do)",
        "psql --single-transaction",
    ] {
        assert_eq!(
            samples.iter().filter(|s| s["tool"] == tool).count(),
            2,
            "two rounds of {tool}: {report}"
        );
    }
    let leftovers = common::pg::server()
        .client("postgres")
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'jobsctl_bench_%'",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(leftovers, 0, "the bench database is dropped");
}

/// `--peers bench/peers`, tiny: graphile-worker and the upstream design
/// installed by node into the bench database and run next to app_jobs.
/// Only where node and npm are (and `npm ci` in bench/peers works, or has
/// been run); skipped with a message otherwise.
#[test]
fn bench_peers_short_runs_both_peers() {
    let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/peers");
    let has = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("node") || !has("npm") {
        eprintln!("skipped: no node or npm on PATH");
        return;
    }
    if !peers.join("node_modules").is_dir() {
        let ci = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&peers)
            .output();
        if !ci.is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: bench/peers/node_modules is missing and `npm ci` failed");
            return;
        }
    }
    let db = TestDb::new("bench_peers");
    let output = jobsctl_on(&db)
        .args([
            "bench",
            "--short",
            "--clients",
            "1",
            "--rounds",
            "1",
            "--duration",
            "0.3",
        ])
        .arg("--peers")
        .arg(&peers)
        .args([
            "--scenario",
            "burndown",
            "--scenario",
            "enqueue",
            "--scenario",
            "stuck",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = common::json_stdout(&output);
    let results = report["results"].as_array().expect("a results list");
    for scenario in ["burndown", "enqueue", "stuck"] {
        for design in ["graphile-worker", "upstream"] {
            let r = results
                .iter()
                .find(|r| r["scenario"] == scenario && r["design"] == design)
                .unwrap_or_else(|| panic!("no {scenario} / {design}: {report}"));
            assert!(r["operations"].as_u64().unwrap() > 0, "{report}");
        }
        let app = results
            .iter()
            .find(|r| r["scenario"] == scenario && r["design"] == "app_jobs")
            .unwrap();
        assert!(
            app["ratio_to_peers"]["upstream"].as_f64().unwrap() > 0.0,
            "{report}"
        );
    }
    assert_eq!(report["peers"].as_array().unwrap().len(), 2, "{report}");
    assert!(
        !report["targets"].as_array().unwrap().is_empty(),
        "{report}"
    );
}

/// The worker scenario's harness, tiny: one jobsctl worker process per
/// runner, 20 jobs, one round; graphile-worker is left out (no `npm ci` in
/// CI), which the report says.
#[test]
fn bench_worker_scenario_runs_the_worker_and_says_what_is_missing() {
    let db = TestDb::new("bench_worker");
    let output = jobsctl_on(&db)
        .args([
            "bench",
            "--short",
            "--scenario",
            "worker",
            "--clients",
            "1",
            "--concurrency",
            "2",
            "--jobs",
            "20",
            "--rounds",
            "1",
            "--graphile-dir",
            "/nonexistent/jobsctl-bench-graphile",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = common::json_stdout(&output);
    let worker = &report["worker"];
    let results = worker["results"].as_array().expect("worker results");
    for runner in ["jobsctl worker (noop)", "jobsctl worker (exec /bin/true)"] {
        let r = results
            .iter()
            .find(|r| r["runner"] == runner)
            .unwrap_or_else(|| panic!("no {runner}: {report}"));
        assert!(r["jobs"].as_u64().unwrap() > 0, "{report}");
        assert!(r["per_second"].as_f64().unwrap() > 0.0, "{report}");
    }
    assert!(
        worker["graphile_missing"]
            .as_str()
            .is_some_and(|m| m.contains("npm ci") || m.contains("node")),
        "{report}"
    );
    assert!(report["results"].as_array().unwrap().is_empty(), "{report}");
}
