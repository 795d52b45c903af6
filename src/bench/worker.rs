//! The `worker` scenario of `jobsctl bench`: end-to-end jobs/s through
//! `jobsctl worker` (its `noop` handler, and an `exec` handler running
//! `/bin/true`), next to graphile-worker's own runner with a no-op task
//! (`bench/graphile/run.mjs`, the npm package pinned in its
//! package-lock.json), on the same server, in the same bench database, with
//! the same number of processes, the same concurrency and the same job
//! count.
//!
//! Each round starts each runner's processes in turn (in a rotating order),
//! waits until every one of them LISTENs, adds the round's jobs in one
//! statement (each system's own bulk function, one notification), and
//! clocks from its commit until the queue table is empty; then stops the
//! processes with SIGTERM. Process start, connecting and (graphile-worker)
//! migrations are outside the clock; waking up, claiming, running and
//! reporting are inside.

use crate::db::Settings;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The target: jobsctl worker's noop throughput over graphile-worker's.
pub const TARGET_RATIO: f64 = 1.5;

#[derive(Debug, Serialize)]
pub struct WorkerReport {
    /// Runner processes of each system at once (`--clients`).
    pub processes: usize,
    /// Jobs at once per process (`--concurrency`).
    pub concurrency: usize,
    pub rounds: usize,
    /// Jobs per round for the no-op runners.
    pub jobs_per_round: u64,
    /// Jobs per round for the exec runner.
    pub exec_jobs_per_round: u64,
    pub node: Option<String>,
    /// Why graphile-worker did not run (no node, `npm ci` not run).
    pub graphile_missing: Option<String>,
    pub results: Vec<RunnerResult>,
    /// Wall-clock milliseconds per job that `exec /bin/true` adds to `noop`
    /// at this concurrency.
    pub exec_overhead_ms_per_job: Option<f64>,
    pub target_ratio: f64,
    /// Every measurement, in run order.
    pub samples: Vec<WorkerSample>,
}

#[derive(Debug, Serialize)]
pub struct RunnerResult {
    pub runner: &'static str,
    pub jobs: u64,
    pub seconds: f64,
    pub per_second: f64,
    /// per_second over graphile-worker's (default settings).
    pub ratio_to_graphile: Option<f64>,
    /// per_second over graphile-worker's with its batching on.
    pub ratio_to_graphile_batched: Option<f64>,
    /// per_second over the baseline binary's noop (`--baseline-exe`).
    pub ratio_to_baseline: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct WorkerSample {
    pub round: usize,
    pub runner: &'static str,
    pub jobs: u64,
    pub seconds: f64,
}

const NOOP: &str = "jobsctl worker (noop)";
const EXEC: &str = "jobsctl worker (exec /bin/true)";
const BASELINE: &str = "baseline jobsctl worker (noop)";
const GRAPHILE: &str = "graphile-worker";
const GRAPHILE_BATCHED: &str = "graphile-worker (batched)";

/// What the scenario needs from the caller.
pub struct WorkerBench {
    /// The jobsctl binary to run (normally this one).
    pub exe: PathBuf,
    /// Another jobsctl binary whose worker runs `noop` too (a build before
    /// a change, to measure the change in the same run).
    pub baseline_exe: Option<PathBuf>,
    /// The folder with `run.mjs` and graphile-worker installed (`npm ci`).
    pub graphile_dir: PathBuf,
    pub processes: usize,
    pub concurrency: usize,
    pub jobs: u64,
    pub exec_jobs: u64,
    pub rounds: usize,
}

/// Run the scenario in the bench database `db` (app_jobs deployed there).
pub fn run(
    bench: &WorkerBench,
    db: &Settings,
    progress: &dyn Fn(&str),
) -> Result<WorkerReport, String> {
    let mut admin = db.connect(None).map_err(|e| format!("connect: {e}"))?;
    let node = node_version();
    let graphile_missing = match &node {
        None => Some("no `node` on PATH: graphile-worker does not run".to_string()),
        Some(_)
            if !bench
                .graphile_dir
                .join("node_modules/graphile-worker")
                .is_dir() =>
        {
            Some(format!(
                "graphile-worker is not installed: run `npm ci` in {}",
                bench.graphile_dir.display()
            ))
        }
        Some(_) => None,
    };
    let mut runners = vec![NOOP, EXEC];
    if bench.baseline_exe.is_some() {
        runners.push(BASELINE);
    }
    if graphile_missing.is_none() {
        runners.extend([GRAPHILE, GRAPHILE_BATCHED]);
    }
    let logs = std::env::temp_dir().join(format!("jobsctl-bench-worker-{}", std::process::id()));
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut samples = Vec::new();
    let rounds = bench.rounds.max(1);
    let result = (|| -> Result<(), String> {
        for round in 0..rounds {
            let mut order = runners.clone();
            let len = order.len();
            order.rotate_left(round % len);
            for runner in order {
                progress(&format!("worker / {runner} (round {}/{rounds})", round + 1));
                let jobs = if runner == EXEC {
                    bench.exec_jobs
                } else {
                    bench.jobs
                };
                let seconds = one_run(bench, db, &mut admin, runner, jobs, &logs)?;
                samples.push(WorkerSample {
                    round,
                    runner,
                    jobs,
                    seconds,
                });
            }
        }
        Ok(())
    })();
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&logs);
    }
    result?;
    let rate = |runner: &str| {
        let (jobs, seconds) = samples
            .iter()
            .filter(|s| s.runner == runner)
            .fold((0, 0.0), |(j, s), x| (j + x.jobs, s + x.seconds));
        (
            jobs,
            seconds,
            if seconds > 0.0 {
                jobs as f64 / seconds
            } else {
                0.0
            },
        )
    };
    let graphile = graphile_missing.is_none().then(|| rate(GRAPHILE).2);
    let graphile_batched = graphile_missing.is_none().then(|| rate(GRAPHILE_BATCHED).2);
    let baseline = bench.baseline_exe.is_some().then(|| rate(BASELINE).2);
    let results: Vec<RunnerResult> = runners
        .iter()
        .map(|&runner| {
            let (jobs, seconds, per_second) = rate(runner);
            RunnerResult {
                runner,
                jobs,
                seconds,
                per_second,
                ratio_to_graphile: graphile.filter(|g| *g > 0.0).map(|g| per_second / g),
                ratio_to_graphile_batched: graphile_batched
                    .filter(|g| *g > 0.0)
                    .map(|g| per_second / g),
                ratio_to_baseline: baseline.filter(|b| *b > 0.0).map(|b| per_second / b),
            }
        })
        .collect();
    let (noop, exec) = (rate(NOOP).2, rate(EXEC).2);
    Ok(WorkerReport {
        processes: bench.processes,
        concurrency: bench.concurrency,
        rounds,
        jobs_per_round: bench.jobs,
        exec_jobs_per_round: bench.exec_jobs,
        node,
        graphile_missing,
        results,
        exec_overhead_ms_per_job: (noop > 0.0 && exec > 0.0)
            .then(|| (1.0 / exec - 1.0 / noop) * 1000.0),
        target_ratio: TARGET_RATIO,
        samples,
    })
}

/// One runner's processes through `jobs` jobs; returns the seconds from the
/// jobs' commit until the last one is gone.
fn one_run(
    bench: &WorkerBench,
    db: &Settings,
    admin: &mut postgres::Client,
    runner: &'static str,
    jobs: u64,
    logs: &Path,
) -> Result<f64, String> {
    let graphile = runner == GRAPHILE || runner == GRAPHILE_BATCHED;
    let (table, add) = if graphile {
        (
            "graphile_worker._private_jobs",
            "SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(\
               SELECT ROW('bench', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec \
                 FROM generate_series(1, $1::bigint)))",
        )
    } else {
        (
            "app_jobs.jobs",
            "SELECT count(*) FROM app_jobs.add_jobs((\
               SELECT jsonb_agg(jsonb_build_object('db_id', '5b720132-17d5-424d-9bcb-ee7b17c13d43', 'identifier', 'bench')) \
                 FROM generate_series(1, $1::bigint)))",
        )
    };
    let mut children = Vec::new();
    let started = (|| -> Result<f64, String> {
        for p in 0..bench.processes {
            let log = logs.join(format!(
                "{}-{p}.log",
                runner.replace([' ', '/', '(', ')'], "_")
            ));
            let file =
                std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            let mut cmd = if graphile {
                let mut cmd = Command::new("node");
                cmd.arg("run.mjs")
                    .current_dir(&bench.graphile_dir)
                    .env("BENCH_CONCURRENCY", bench.concurrency.to_string())
                    .env(
                        "BENCH_BATCHED",
                        if runner == GRAPHILE_BATCHED { "1" } else { "0" },
                    );
                cmd
            } else {
                let exe = match (runner, &bench.baseline_exe) {
                    (BASELINE, Some(exe)) => exe,
                    _ => &bench.exe,
                };
                let mut cmd = Command::new(exe);
                let task = if runner == EXEC {
                    "bench=exec:/bin/true"
                } else {
                    "bench=noop"
                };
                cmd.args(["worker", "--no-schedule", "--task", task, "--concurrency"])
                    .arg(bench.concurrency.to_string());
                cmd
            };
            cmd.env_remove("DATABASE_URL")
                .envs(db.libpq_env())
                .stdin(Stdio::null())
                .stdout(file.try_clone().map_err(|e| e.to_string())?)
                .stderr(file);
            let child = cmd.spawn().map_err(|e| format!("{runner}: {e}"))?;
            children.push((child, log));
        }
        wait_listening(admin, bench.processes, &mut children, runner)?;
        // Let the first (empty) claims of the freshly started processes pass.
        std::thread::sleep(Duration::from_millis(300));
        let added: i64 = admin
            .query_one(add, &[&(jobs as i64)])
            .map_err(|e| format!("{runner}: add the jobs: {e}"))?
            .get(0);
        let t0 = Instant::now();
        if added != jobs as i64 {
            return Err(format!("{runner}: added {added} jobs, not {jobs}"));
        }
        let done = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        let give_up = t0 + Duration::from_secs(600);
        loop {
            let left: bool = admin
                .query_one(&done, &[])
                .map_err(|e| format!("{runner}: {e}"))?
                .get(0);
            if !left {
                return Ok(t0.elapsed().as_secs_f64());
            }
            if Instant::now() > give_up {
                return Err(format!("{runner}: jobs left after 10 minutes"));
            }
            check_alive(&mut children, runner)?;
            std::thread::sleep(Duration::from_millis(5));
        }
    })();
    stop(&mut children);
    // The next runner starts with an empty queue and its own sessions only.
    let _ = admin.batch_execute(&format!("DELETE FROM {table}"));
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let others: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .map_err(|e| e.to_string())?
            .get(0);
        if others == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    started
}

/// Wait until `processes` sessions of this database LISTEN (both runners'
/// listening session runs nothing but its LISTEN).
fn wait_listening(
    admin: &mut postgres::Client,
    processes: usize,
    children: &mut [(Child, PathBuf)],
    runner: &str,
) -> Result<(), String> {
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                  WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                &[],
            )
            .map_err(|e| e.to_string())?
            .get(0);
        if n as usize >= processes {
            return Ok(());
        }
        check_alive(children, runner)?;
        if Instant::now() > give_up {
            return Err(format!("{runner}: not listening after 60 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check_alive(children: &mut [(Child, PathBuf)], runner: &str) -> Result<(), String> {
    for (child, log) in children.iter_mut() {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!(
                "{runner} exited early ({status}): {}",
                tail(&text, 2000)
            ));
        }
    }
    Ok(())
}

/// SIGTERM every process, then wait (SIGKILL after 30 s).
fn stop(children: &mut Vec<(Child, PathBuf)>) {
    for (child, _) in children.iter() {
        // SAFETY: kill(2) on a child process we started and have not reaped.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
    }
    let give_up = Instant::now() + Duration::from_secs(30);
    for (child, _) in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > give_up => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
    children.clear();
}

/// The last `max` bytes of `text` (on a character boundary).
fn tail(text: &str, max: usize) -> &str {
    let text = text.trim();
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn node_version() -> Option<String> {
    let output = Command::new("node").arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The scenario's lines of the human report.
pub fn human(report: &WorkerReport) -> String {
    let mut out = format!(
        "\nworker: {} processes x concurrency {}, {} jobs per round ({} with exec), {} interleaved rounds\n\n",
        report.processes,
        report.concurrency,
        report.jobs_per_round,
        report.exec_jobs_per_round,
        report.rounds
    );
    out.push_str(&format!(
        "{:<34} {:>8} {:>9} {:>11} {:>10} {:>12} {:>10}\n",
        "runner", "jobs", "seconds", "jobs/s", "x graphile", "x g.batched", "x baseline"
    ));
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for r in &report.results {
        out.push_str(&format!(
            "{:<34} {:>8} {:>9.2} {:>11.0} {:>10} {:>12} {:>10}\n",
            r.runner,
            r.jobs,
            r.seconds,
            r.per_second,
            f(r.ratio_to_graphile),
            f(r.ratio_to_graphile_batched),
            f(r.ratio_to_baseline)
        ));
    }
    if let Some(ms) = report.exec_overhead_ms_per_job {
        out.push_str(&format!(
            "exec /bin/true adds {ms:.3} ms of wall clock per job over noop at this concurrency\n"
        ));
    }
    if let Some(why) = &report.graphile_missing {
        out.push_str(&format!("graphile-worker not measured: {why}\n"));
    }
    out
}
