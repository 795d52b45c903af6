//! `jobsctl bench`: measure the `app_jobs` queue against a bare-limit
//! queue and the first-generation design, in a throwaway database.
//!
//! The caller creates the bench database and deploys the workspace into
//! it (see `commands::bench`); [`run`] adds the reference schemas and runs
//! each scenario for each design with `clients` connections, measuring
//! jobs/s, shared buffers per claim (`pg_stat_statements` when the server
//! has it, else `EXPLAIN (ANALYZE, BUFFERS)` of one claim) and WAL bytes per
//! job (`pg_current_wal_lsn()` before and after; cluster-wide, so other
//! activity on the server is counted too).
//!
//! With `--peers DIR` the peers (graphile-worker, the upstream
//! `@pgpm/database-jobs`) are installed by node into the same database and
//! take part in the scenarios they define, as further designs (see
//! [`peers`]).

pub mod deploy;
pub mod peers;
pub mod reference;
pub mod scenarios;
pub mod targets;
pub mod worker;

use crate::db::Settings;
use scenarios::{Design, Loop, Sizes};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub short: bool,
    pub clients: usize,
    /// Clock time per scenario and design, split into `rounds` slices.
    pub duration: Duration,
    /// Slices per design; the designs of a scenario take turns.
    pub rounds: usize,
    /// The queue scenarios to run, in any order (they run in [`SCENARIO_NAMES`] order).
    pub scenarios: Vec<String>,
    /// The folder of the peers' npm project (`--peers`), when they take part.
    pub peers: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub server_version: String,
    pub database: String,
    pub clients: usize,
    pub duration_seconds: f64,
    pub rounds: usize,
    pub short: bool,
    /// `pg_stat_statements` (exact, all statements of the clients) or `explain` (one claim).
    pub buffers_source: String,
    pub load_average: Option<String>,
    pub results: Vec<BenchResult>,
    /// The peers measured (`--peers`), when any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<peers::PeerSummary>,
    /// Issue 16's targets, when peers ran (see [`targets`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<targets::Target>,
    /// The `deploy` scenario, when it ran (see [`deploy`]).
    pub deploy: Option<deploy::DeployReport>,
    /// The `worker` scenario, when it ran (see [`worker`]).
    pub worker: Option<worker::WorkerReport>,
}

#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub scenario: String,
    /// `app_jobs`, `app_jobs_coalesce`, `bare`, `naive` or a peer's name.
    #[serde(rename = "design")]
    pub design_name: String,
    #[serde(skip)]
    pub design: Design,
    /// Jobs completed (burn-down, steady, batched), jobs added (enqueue) or
    /// polls (idle0, idle) per second.
    pub per_second: f64,
    pub unit: &'static str,
    pub operations: u64,
    pub seconds: f64,
    /// per_second divided by the bare design's figure of the reference scenario.
    pub ratio_to_bare: Option<f64>,
    /// per_second divided by each peer's figure in the same scenario.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ratio_to_peers: BTreeMap<String, f64>,
    /// Shared buffers (hit + read) per claim statement call.
    pub buffers_per_claim: Option<f64>,
    pub wal_bytes_per_op: Option<f64>,
    /// A burn-down that did not finish its backlog within the duration.
    pub unfinished: Option<i64>,
}

pub const SCENARIO_NAMES: &[&str] = scenarios::SCENARIOS;

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// Run the bench in `db` (the workspace is already deployed there).
pub fn run(
    db: &Settings,
    config: &BenchConfig,
    progress: &dyn Fn(&str),
) -> Result<BenchReport, String> {
    for s in &config.scenarios {
        if !SCENARIO_NAMES.contains(&s.as_str()) {
            return Err(format!(
                "unknown scenario `{s}`; known: {}",
                SCENARIO_NAMES.join(", ")
            ));
        }
    }
    let mut admin = db.connect(None).map_err(|e| err("connect", e))?;
    admin
        .batch_execute(reference::BARE_SCHEMA)
        .map_err(|e| err("bare schema", e))?;
    admin
        .batch_execute(reference::NAIVE_SCHEMA)
        .map_err(|e| err("naive schema", e))?;
    let (peer_list, peer_summaries) = match &config.peers {
        Some(dir) => {
            progress(&format!("peers: node setup.mjs in {}", dir.display()));
            let doc = peers::install(dir, db, progress)?;
            let summaries = doc.designs.iter().map(|p| p.summary(&doc.node)).collect();
            (doc.designs, summaries)
        }
        None => (Vec::new(), Vec::new()),
    };
    let name = |d: Design| match d {
        Design::Peer(i) => peer_list[i].name.clone(),
        d => d.name().to_string(),
    };
    let pgss = admin
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .is_ok()
        && admin
            .query_one("SELECT count(*) FROM pg_stat_statements", &[])
            .is_ok();
    let server_version: String = admin
        .query_one("SELECT version()", &[])
        .map_err(|e| err("version", e))?
        .get(0);
    let sizes = Sizes::new(config.short);
    let wanted: Vec<&str> = SCENARIO_NAMES
        .iter()
        .copied()
        .filter(|s| config.scenarios.iter().any(|w| w == s))
        .collect();
    let mut results: Vec<BenchResult> = Vec::new();
    for scenario in &wanted {
        let mut runs: Vec<(Design, scenarios::Plan)> = scenarios::designs(scenario)
            .iter()
            .filter_map(|&d| scenarios::plan(scenario, d, &sizes).map(|p| (d, p)))
            .collect();
        for (i, peer) in peer_list.iter().enumerate() {
            if let Some(p) = peers::plan(peer, scenario, &sizes) {
                runs.push((Design::Peer(i), p));
            }
        }
        // Every design's preload first (each design has its own tables; the
        // two app_jobs designs only share tables in scenarios without one).
        let mut explain = Vec::new();
        for (design, plan) in &runs {
            progress(&format!("{scenario} / {}: setup", name(*design)));
            for stmt in &plan.setup {
                admin.batch_execute(stmt).map_err(|e| err(stmt, e))?;
            }
            explain.push(if pgss {
                None
            } else {
                explain_buffers(&mut admin, &plan.statement)
            });
        }
        // Then the clock: `rounds` slices per design, interleaved and in a
        // rotating order, so that a change of load on the machine during the
        // scenario hits every design alike.
        let rounds = config.rounds.max(1);
        let slice = config.duration / rounds as u32;
        let mut totals = vec![Totals::default(); runs.len()];
        for round in 0..rounds {
            for k in 0..runs.len() {
                let i = (round + k) % runs.len();
                let (design, plan) = &runs[i];
                progress(&format!(
                    "{scenario} / {} (round {}/{rounds})",
                    name(*design),
                    round + 1
                ));
                if pgss {
                    admin
                        .batch_execute("SELECT pg_stat_statements_reset()")
                        .map_err(|e| err("pg_stat_statements_reset", e))?;
                }
                let lsn0: String = admin
                    .query_one("SELECT pg_current_wal_lsn()::text", &[])
                    .map_err(|e| err("wal", e))?
                    .get(0);
                let (ops, seconds) = drive(db, config.clients, slice, plan)?;
                let wal: f64 = admin
                    .query_one(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::float8",
                        &[&lsn0],
                    )
                    .map_err(|e| err("wal", e))?
                    .get(0);
                let t = &mut totals[i];
                t.ops += ops;
                t.seconds += seconds;
                t.wal += wal;
                if pgss && plan.kind != Loop::Enqueue {
                    let (blocks, calls) = statement_buffers(&mut admin, &plan.statement)?;
                    if calls == 0.0 && ops > 0 {
                        progress(&format!(
                            "{scenario} / {}: the claim statement is not in pg_stat_statements",
                            name(*design)
                        ));
                    }
                    t.blocks += blocks;
                    t.calls += calls;
                }
            }
        }
        for (((design, plan), t), explained) in runs.iter().zip(&totals).zip(explain) {
            let remaining = match &plan.remaining {
                Some(sql) => {
                    let n: i64 = admin.query_one(sql, &[]).map_err(|e| err(sql, e))?.get(0);
                    (n > 0).then_some(n)
                }
                None => None,
            };
            results.push(BenchResult {
                scenario: scenario.to_string(),
                design_name: match design {
                    Design::Peer(i) => peer_list[*i].name.clone(),
                    d => d.key().to_string(),
                },
                design: *design,
                per_second: if t.seconds > 0.0 {
                    t.ops as f64 / t.seconds
                } else {
                    0.0
                },
                unit: match plan.kind {
                    Loop::Poll => "polls",
                    Loop::Enqueue => "jobs added",
                    _ => "jobs",
                },
                operations: t.ops,
                seconds: t.seconds,
                ratio_to_bare: None,
                ratio_to_peers: BTreeMap::new(),
                buffers_per_claim: if pgss {
                    (t.calls > 0.0).then(|| t.blocks / t.calls)
                } else {
                    explained
                },
                wal_bytes_per_op: (t.ops > 0).then(|| t.wal / t.ops as f64),
                unfinished: remaining,
            });
        }
    }
    // ratios to the bare limit
    let bare: Vec<(String, f64)> = results
        .iter()
        .filter(|r| r.design == Design::Bare)
        .map(|r| (r.scenario.clone(), r.per_second))
        .collect();
    for r in &mut results {
        let reference = scenarios::bare_reference(&r.scenario);
        let reference = if r.design == Design::Bare {
            r.scenario.as_str()
        } else {
            reference
        };
        if let Some((_, b)) = bare.iter().find(|(s, _)| s == reference)
            && *b > 0.0
        {
            r.ratio_to_bare = Some(r.per_second / b);
        }
    }
    // ratios to each peer in the same scenario
    let peer_rates: Vec<(String, String, f64)> = results
        .iter()
        .filter(|r| matches!(r.design, Design::Peer(_)))
        .map(|r| (r.scenario.clone(), r.design_name.clone(), r.per_second))
        .collect();
    for r in &mut results {
        for (scenario, peer, rate) in &peer_rates {
            if *scenario == r.scenario && *rate > 0.0 {
                r.ratio_to_peers.insert(peer.clone(), r.per_second / rate);
            }
        }
    }
    Ok(BenchReport {
        server_version,
        database: db.describe(),
        clients: config.clients,
        duration_seconds: config.duration.as_secs_f64(),
        rounds: config.rounds,
        short: config.short,
        buffers_source: if pgss {
            "pg_stat_statements"
        } else {
            "explain"
        }
        .into(),
        load_average: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
        targets: targets::check(&results),
        results,
        peers: peer_summaries,
        deploy: None,
        worker: None,
    })
}

/// What the slices of one design add up to in a scenario.
#[derive(Clone, Default)]
struct Totals {
    ops: u64,
    seconds: f64,
    wal: f64,
    blocks: f64,
    calls: f64,
}

/// What `pg_stat_statements` turns into `$n` (numbers, strings, booleans),
/// left out of both texts when comparing a statement with its entries.
const CONSTANTS: &str = r"\$[0-9]+|[0-9]+|'[^']*'|\mtrue\M|\mfalse\M";

/// Shared buffers (hit + read) and calls of `statement` in this database
/// since the last `pg_stat_statements_reset()`; nested statements count in
/// the top-level statement that ran them.
fn statement_buffers(admin: &mut postgres::Client, statement: &str) -> Result<(f64, f64), String> {
    let row = admin
        .query_one(
            "SELECT coalesce(sum(shared_blks_hit + shared_blks_read), 0)::float8, \
                    coalesce(sum(calls), 0)::float8 \
               FROM pg_stat_statements \
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                AND regexp_replace(query, $2, '', 'gi') = regexp_replace($1, $2, '', 'gi')",
            &[&statement, &CONSTANTS],
        )
        .map_err(|e| err("pg_stat_statements", e))?;
    Ok((row.get(0), row.get(1)))
}

/// Shared buffers of one run of `statement`, rolled back.
fn explain_buffers(client: &mut postgres::Client, statement: &str) -> Option<f64> {
    let sql = format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
        statement.replace("$1", "'bench-explain'::text")
    );
    let mut tx = client.transaction().ok()?;
    // EXPLAIN (FORMAT JSON) returns a json column: read it as text
    let messages = tx.simple_query(&sql).ok()?;
    let _ = tx.rollback();
    let text = messages.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
        _ => None,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let plan = &v[0]["Plan"];
    Some(plan["Shared Hit Blocks"].as_f64()? + plan["Shared Read Blocks"].as_f64().unwrap_or(0.0))
}

/// Run the clients for `duration`; returns (operations, seconds).
fn drive(
    db: &Settings,
    clients: usize,
    duration: Duration,
    plan: &scenarios::Plan,
) -> Result<(u64, f64), String> {
    let clients = clients.max(1);
    let start = Arc::new(Barrier::new(clients + 1));
    let mut handles = Vec::new();
    for c in 0..clients {
        let mut client = db.connect(None).map_err(|e| err("connect", e))?;
        for sql in &plan.session {
            client.batch_execute(sql).map_err(|e| err(sql, e))?;
        }
        let start = Arc::clone(&start);
        let statement = plan.statement.clone();
        let steps = plan.steps.clone();
        let enqueue = plan.enqueue;
        let kind = plan.kind;
        handles.push(thread::spawn(move || -> Result<u64, String> {
            let worker = format!("bench-{}-{c}", std::process::id());
            if !steps.is_empty() {
                // a peer's statements
                let prepared = peers::Prepared::new(&mut client, &steps);
                start.wait();
                let prepared = prepared?;
                return client_loop(duration, kind, || prepared.run(&mut client, &worker));
            }
            let stmt = client.prepare(&statement).map_err(|e| err(&statement, e));
            let enq = enqueue.map(|e| client.prepare(e));
            start.wait();
            let stmt = stmt?;
            let enq = match enq {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => return Err(err("prepare enqueue", e)),
                None => None,
            };
            client_loop(duration, kind, || {
                if let Some(enq) = &enq {
                    client.query_one(enq, &[]).map_err(|e| err("enqueue", e))?;
                }
                let row = if stmt.params().is_empty() {
                    client.query_one(&stmt, &[])
                } else {
                    client.query_one(&stmt, &[&worker])
                }
                .map_err(|e| err(&statement, e))?;
                Ok(row.get::<_, i64>(0) as u64)
            })
        }));
    }
    start.wait();
    let began = Instant::now();
    let mut ops = 0;
    for h in handles {
        ops += h
            .join()
            .map_err(|_| "a bench client panicked".to_string())??;
    }
    Ok((ops, began.elapsed().as_secs_f64()))
}

/// Repeat `once` (jobs done by one loop) for `duration`; a burn-down stops
/// early after three empty loops in a row. Returns the operations.
fn client_loop(
    duration: Duration,
    kind: Loop,
    mut once: impl FnMut() -> Result<u64, String>,
) -> Result<u64, String> {
    let deadline = Instant::now() + duration;
    let (mut ops, mut empty) = (0u64, 0u32);
    while Instant::now() < deadline {
        let n = once()?;
        match kind {
            Loop::Poll => ops += 1,
            _ => ops += n,
        }
        if kind == Loop::BurnDown {
            if n == 0 {
                empty += 1;
                if empty >= 3 {
                    break;
                }
            } else {
                empty = 0;
            }
        }
    }
    Ok(ops)
}

/// The report as a table.
pub fn human(report: &BenchReport) -> String {
    let mut out = format!(
        "{}\nclients {}, {} s per scenario and design in {} interleaved rounds{}, buffers from {}, load average {}\n\n",
        report.server_version,
        report.clients,
        report.duration_seconds,
        report.rounds,
        if report.short { " (--short)" } else { "" },
        report.buffers_source,
        report.load_average.as_deref().unwrap_or("?")
    );
    if report.results.is_empty() {
        return out;
    }
    // one more column per peer: the ratio to its figure in the scenario
    let peer_columns: String = report
        .peers
        .iter()
        .map(|p| format!(" {:>17}", format!("x {}", p.name)))
        .collect();
    out.push_str(&format!(
        "{:<10} {:<17} {:>12} {:<11} {:>8} {:>11} {:>10} {:>10}{peer_columns}\n",
        "scenario", "design", "per second", "unit", "x bare", "buf/claim", "WAL B/op", "left"
    ));
    for r in &report.results {
        let f = |v: Option<f64>, p: usize| v.map_or("-".to_string(), |v| format!("{v:.p$}"));
        let peer_columns: String = report
            .peers
            .iter()
            .map(|p| format!(" {:>17}", f(r.ratio_to_peers.get(&p.name).copied(), 2)))
            .collect();
        out.push_str(&format!(
            "{:<10} {:<17} {:>12.0} {:<11} {:>8} {:>11} {:>10} {:>10}{peer_columns}\n",
            r.scenario,
            match r.design {
                Design::Peer(_) => r.design_name.as_str(),
                d => d.name(),
            },
            r.per_second,
            r.unit,
            f(r.ratio_to_bare, 2),
            f(r.buffers_per_claim, 1),
            f(r.wal_bytes_per_op, 0),
            r.unfinished.map_or("-".into(), |n| n.to_string()),
        ));
    }
    for p in &report.peers {
        out.push_str(&format!("\n{} {}: {}", p.name, p.version, p.claim_note));
    }
    if !report.peers.is_empty() {
        out.push('\n');
    }
    out.push_str(&targets::human(&report.targets));
    out
}
