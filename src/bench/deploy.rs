//! The `deploy` scenario of `jobsctl bench`: `jobsctl deploy` of the
//! workspace into a fresh database, timed next to `psql
//! --single-transaction` applying the same deploy scripts into another fresh
//! database, in an order that rotates, on the same server in the same run; and
//! the no-op redeploy that follows each deploy.
//!
//! Both are child processes started the same way (same environment, the
//! connection passed as libpq variables), so each figure includes process
//! start, connecting and the work; `jobsctl deploy` also creates the
//! `pgpm_migrate` registry and records every change in it.

use crate::db::Settings;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub changes: usize,
    pub rounds: usize,
    /// Median seconds of `jobsctl deploy` into a fresh database.
    pub jobsctl_seconds: f64,
    /// Median seconds of `psql --single-transaction` of the same scripts;
    /// `None` when no psql was found (see `psql_missing`).
    pub psql_seconds: Option<f64>,
    pub ratio_to_psql: Option<f64>,
    /// Median seconds of `jobsctl deploy --tx all` (one transaction, like
    /// the psql reference) into a fresh database.
    pub tx_all_seconds: f64,
    /// Median seconds of `jobsctl deploy` run again right after (nothing to do).
    pub noop_seconds: f64,
    pub psql: Option<String>,
    pub psql_missing: Option<String>,
    /// Every measurement, in run order.
    pub samples: Vec<DeploySample>,
}

#[derive(Debug, Serialize)]
pub struct DeploySample {
    pub round: usize,
    pub tool: &'static str,
    pub seconds: f64,
}

const JOBSCTL: &str = "jobsctl deploy";
const JOBSCTL_TX_ALL: &str = "jobsctl deploy --tx all";
const JOBSCTL_NOOP: &str = "jobsctl deploy again (nothing to do)";
const PSQL: &str = "psql --single-transaction";

/// What the scenario needs from the caller.
pub struct DeployBench<'a> {
    /// The jobsctl binary to run (normally this one).
    pub exe: PathBuf,
    /// `--workspace` for the child, or `None` for the embedded workspace.
    pub workspace: Option<&'a Path>,
    /// The deploy scripts in deploy order, without their BEGIN/COMMIT.
    pub sql: String,
    pub changes: usize,
    pub rounds: usize,
}

/// The deploy scripts of `plan` as one file for `psql
/// --single-transaction`: extensions first where the plan creates them,
/// each script's own `BEGIN;`/`COMMIT;` lines left out (psql's single
/// transaction replaces them).
pub fn single_transaction_sql<'a>(steps: impl Iterator<Item = SqlStep<'a>>) -> String {
    let mut sql = String::new();
    for step in steps {
        match step {
            SqlStep::Extension(name) => {
                sql.push_str(&format!(
                    "CREATE EXTENSION IF NOT EXISTS \"{}\";\n",
                    name.replace('"', "\"\"")
                ));
            }
            SqlStep::Script(text) => {
                for line in text.lines() {
                    let bare = line.trim().to_ascii_uppercase();
                    if bare != "BEGIN;" && bare != "COMMIT;" {
                        sql.push_str(line);
                        sql.push('\n');
                    }
                }
            }
        }
    }
    sql
}

/// The two kinds of step of a deploy, for [`single_transaction_sql`].
pub enum SqlStep<'a> {
    Extension(&'a str),
    /// A deploy script's text.
    Script(&'a str),
}

/// Run the scenario: `rounds` times, each tool into its own fresh database
/// (created and dropped through `admin`), in an order that rotates.
pub fn run(
    bench: &DeployBench,
    settings: &Settings,
    admin: &mut postgres::Client,
    progress: &dyn Fn(&str),
) -> Result<DeployReport, String> {
    let psql = find_psql();
    let sql_file = TempFile(
        std::env::temp_dir().join(format!("jobsctl-bench-deploy-{}.sql", std::process::id())),
    );
    std::fs::write(&sql_file.0, &bench.sql)
        .map_err(|e| format!("{}: {e}", sql_file.0.display()))?;
    let mut samples = Vec::new();
    let rounds = bench.rounds.max(1);
    for round in 0..rounds {
        // a rotating order, so that no tool always runs first
        let mut tools = vec![JOBSCTL, JOBSCTL_TX_ALL, PSQL];
        tools.rotate_left(round % 3);
        for tool in tools {
            let psql = match (tool, &psql) {
                (PSQL, Ok(psql)) => Some(psql),
                (PSQL, Err(_)) => continue,
                _ => None,
            };
            progress(&format!("deploy / {tool} (round {}/{rounds})", round + 1));
            let db = format!("jobsctl_bench_deploy_{}_{round}", std::process::id());
            admin
                .batch_execute(&format!("CREATE DATABASE \"{db}\""))
                .map_err(|e| format!("create database {db}: {e}"))?;
            let target = settings.with_database(&db);
            let jobsctl = |args: &[&str]| {
                let mut cmd = Command::new(&bench.exe);
                cmd.args(["deploy", "--quiet", "--format", "json"])
                    .args(args);
                if let Some(ws) = bench.workspace {
                    cmd.arg("--workspace").arg(ws);
                }
                cmd
            };
            let result = (|| -> Result<(), String> {
                let mut sample = |tool: &'static str, cmd: Command| -> Result<(), String> {
                    let seconds = timed(cmd, &target, tool)?;
                    samples.push(DeploySample {
                        round,
                        tool,
                        seconds,
                    });
                    Ok(())
                };
                match psql {
                    Some(psql) => {
                        let mut cmd = Command::new(psql);
                        cmd.args([
                            "-X",
                            "-q",
                            "-v",
                            "ON_ERROR_STOP=1",
                            "--single-transaction",
                            "-f",
                        ])
                        .arg(&sql_file.0);
                        sample(PSQL, cmd)
                    }
                    None if tool == JOBSCTL_TX_ALL => {
                        sample(JOBSCTL_TX_ALL, jobsctl(&["--tx", "all"]))
                    }
                    None => {
                        sample(JOBSCTL, jobsctl(&[]))?;
                        sample(JOBSCTL_NOOP, jobsctl(&[]))
                    }
                }
            })();
            let dropped =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
            result?;
            dropped.map_err(|e| format!("drop database {db}: {e}"))?;
        }
    }
    let median_of = |tool: &str| {
        median(
            samples
                .iter()
                .filter(|s| s.tool == tool)
                .map(|s| s.seconds)
                .collect(),
        )
    };
    let jobsctl_seconds = median_of(JOBSCTL).unwrap_or(0.0);
    let tx_all_seconds = median_of(JOBSCTL_TX_ALL).unwrap_or(0.0);
    let psql_seconds = median_of(PSQL);
    Ok(DeployReport {
        changes: bench.changes,
        rounds,
        jobsctl_seconds,
        ratio_to_psql: psql_seconds
            .filter(|p| *p > 0.0)
            .map(|p| jobsctl_seconds / p),
        psql_seconds,
        tx_all_seconds,
        noop_seconds: median_of(JOBSCTL_NOOP).unwrap_or(0.0),
        psql: psql.as_ref().ok().map(|p| p.display().to_string()),
        psql_missing: psql.err(),
        samples,
    })
}

/// Wall-clock seconds of `cmd` connecting through `target`; an error with
/// its stderr when it fails.
fn timed(mut cmd: Command, target: &Settings, what: &str) -> Result<f64, String> {
    cmd.env_remove("DATABASE_URL")
        .envs(target.libpq_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let output = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(seconds)
}

/// The psql binary itself, found where `jobsctl dev` finds the server
/// programs. Not Debian's `/usr/bin/psql`: that is `pg_wrapper`, a Perl
/// script that adds ~25 ms to every start, which would flatter jobsctl's
/// ratio.
fn find_psql() -> Result<PathBuf, String> {
    crate::dev::client_program("psql").ok_or_else(|| {
        "no psql found (JOBSCTL_PG_BINDIR, PATH, pg_config --bindir, /usr/lib/postgresql/*/bin): \
         the deploy scenario runs without its reference"
            .to_string()
    })
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The scenario's lines of the human report.
pub fn human(report: &DeployReport) -> String {
    let mut out = format!(
        "\ndeploy of the workspace ({} changes) into a fresh database, median of {} rounds\n\n",
        report.changes, report.rounds
    );
    out.push_str(&format!(
        "{:<40} {:>10} {:>8}\n",
        "what", "seconds", "x psql"
    ));
    let ratio = |s: f64| {
        report
            .psql_seconds
            .filter(|p| *p > 0.0)
            .map_or("-".to_string(), |p| format!("{:.2}", s / p))
    };
    let row = |what: &str, seconds: f64, ratio: String| {
        format!("{what:<40} {seconds:>10.3} {ratio:>8}\n")
    };
    out.push_str(&row(
        JOBSCTL,
        report.jobsctl_seconds,
        ratio(report.jobsctl_seconds),
    ));
    out.push_str(&row(
        JOBSCTL_TX_ALL,
        report.tx_all_seconds,
        ratio(report.tx_all_seconds),
    ));
    match report.psql_seconds {
        Some(p) => out.push_str(&row(
            "psql --single-transaction (same SQL)",
            p,
            "1.00".into(),
        )),
        None => out.push_str(&format!(
            "{:<40} {:>10} {:>8}   {}\n",
            "psql --single-transaction (same SQL)",
            "-",
            "-",
            report.psql_missing.as_deref().unwrap_or("")
        )),
    }
    out.push_str(&row(JOBSCTL_NOOP, report.noop_seconds, "-".into()));
    out
}
