//! `jobsctl bench`: create a throwaway database on the target server,
//! deploy the embedded workspace into it, run `crate::bench` and drop the
//! database again (also when the bench fails).

use super::project::Project;
use crate::bench::deploy::{DeployBench, SqlStep, single_transaction_sql};
use crate::bench::{self, BenchConfig};
use crate::cli::{BenchArgs, WorkspaceArgs};
use crate::engine::TxScope;
use crate::engine::deploy::{DeployOptions, deploy};
use crate::engine::plan::{Step, deploy_plan};
use crate::error::Error;
use crate::output::Printer;
use std::io::Write;
use std::time::Duration;

/// The scenario that times deploys rather than the queue.
const DEPLOY: &str = "deploy";
/// The scenario that runs `jobsctl worker` next to graphile-worker (only
/// when named: it needs node and `npm ci` in bench/graphile).
const WORKER: &str = "worker";

pub fn run(project: &Project, args: &BenchArgs, printer: &Printer) -> Result<(), Error> {
    if args.clients == 0 {
        return Err(Error::Usage("--clients must be at least 1".into()));
    }
    let duration = match args.duration {
        Some(s) => Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--duration {s}: expected a positive number of seconds"
                ))
            })?,
        None if args.short => Duration::from_millis(700),
        None => Duration::from_secs(8),
    };
    for s in &args.scenarios {
        if !bench::SCENARIO_NAMES.contains(&s.as_str()) && s != DEPLOY && s != WORKER {
            return Err(Error::Usage(format!(
                "--scenario {s}: unknown; known: {}, {DEPLOY}, {WORKER}",
                bench::SCENARIO_NAMES.join(", ")
            )));
        }
    }
    // No --scenario: every queue scenario, then deploy.
    let every = args.scenarios.is_empty();
    let queue_scenarios: Vec<String> = if every {
        bench::SCENARIO_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.scenarios
            .iter()
            .filter(|s| *s != DEPLOY && *s != WORKER)
            .cloned()
            .collect()
    };
    let deploy_scenario = every || args.scenarios.iter().any(|s| s == DEPLOY);
    let worker_scenario = args.scenarios.iter().any(|s| s == WORKER);
    let (workspace, resolution) = super::open_workspace(
        project,
        &WorkspaceArgs {
            workspace: None,
            packages: Vec::new(),
            strict: false,
        },
        printer,
    )?;
    let plan = deploy_plan(&workspace, &resolution);
    let workspace_dir = project.workspace(None)?;
    let (settings, _) = project.connection(&args.connection, printer)?;
    let name = format!("jobsctl_bench_{}", std::process::id());
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::Engine(crate::engine::Error::Query(format!("{what}: {e}")))
    };
    let mut admin = settings
        .connect(Some(printer.notice_handler()))
        .map_err(crate::engine::Error::from)?;
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .map_err(|e| fail("create the bench database", &e))?;
    printer.note(&format!(
        "created database {name}; deploying the embedded workspace"
    ));
    let bench_settings = settings.with_database(&name);
    let result = (|| -> Result<bench::BenchReport, Error> {
        let options = DeployOptions {
            to: None,
            tx: TxScope::Change,
            dry_run: false,
            log_only: false,
            accept_drift: false,
            replace_drift: false,
            drift: Default::default(),
            lock_timeout: Duration::from_secs(60),
            locks: Default::default(),
        };
        deploy(
            &plan,
            &bench_settings,
            &options,
            printer.notice_handler(),
            &mut |_| {},
        )?;
        let config = BenchConfig {
            short: args.short,
            rounds: args
                .rounds
                .map_or(if args.short { 2 } else { 4 }, |n| n as usize),
            clients: args.clients,
            duration,
            scenarios: queue_scenarios,
            peers: args.peers.as_ref().map(|dir| project.cwd.join(dir)),
        };
        let quiet = printer.quiet();
        let progress = |step: &str| {
            if !quiet {
                let _ = writeln!(anstream::stderr(), "bench: {step}");
            }
        };
        let mut report =
            bench::run(&bench_settings, &config, &progress).map_err(|e| fail("bench", &e))?;
        if worker_scenario {
            let jobs = args.jobs.unwrap_or(if args.short { 200 } else { 10_000 });
            let input = bench::worker::WorkerBench {
                exe: std::env::current_exe()?,
                baseline_exe: args.baseline_exe.clone(),
                graphile_dir: args
                    .graphile_dir
                    .clone()
                    .unwrap_or_else(|| project.cwd.join("bench/graphile")),
                processes: args.clients,
                concurrency: args.concurrency as usize,
                jobs,
                exec_jobs: (jobs / 5).max(1),
                rounds: config.rounds,
            };
            report.worker = Some(
                bench::worker::run(&input, &bench_settings, &progress)
                    .map_err(|e| fail("bench worker", &e))?,
            );
        }
        Ok(report)
    })();
    let dropped = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    let mut report = result?;
    dropped.map_err(|e| fail("drop the bench database", &e))?;
    if deploy_scenario {
        let steps = plan.steps.iter().flat_map(|step| match step {
            Step::Extension { name, .. } => vec![SqlStep::Extension(name)],
            Step::Package(package) => package
                .changes
                .iter()
                .filter_map(|c| std::str::from_utf8(&c.scripts.deploy.bytes).ok())
                .map(SqlStep::Script)
                .collect(),
        });
        let input = DeployBench {
            exe: std::env::current_exe()?,
            workspace: workspace_dir.as_deref(),
            sql: single_transaction_sql(steps),
            changes: plan.change_count(),
            rounds: args
                .rounds
                .map_or(if args.short { 2 } else { 7 }, |n| n as usize),
        };
        let quiet = printer.quiet();
        report.deploy = Some(
            bench::deploy::run(&input, &settings, &mut admin, &|step| {
                if !quiet {
                    let _ = writeln!(anstream::stderr(), "bench: {step}");
                }
            })
            .map_err(|e| fail("bench deploy", &e))?,
        );
    }
    printer.bench_report(&report)?;
    Ok(())
}
