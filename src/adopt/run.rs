//! Running an adoption: the deploy lock and the registry as `deploy` has
//! them (`Session`), what is there (`recognise`, `checks`), then, unless
//! `--dry-run`, everything in ONE transaction run by the engine's
//! `Executor` with `TxScope::All`: the table locks, the same inspection
//! again under them, the pending changes of pgpm-verify and
//! pgpm-default-roles, the registry rows of the upstream package
//! forgotten, the head, every pgpm-jobs change, the queue recount, COMMIT.
//! A failure or a kill before COMMIT leaves the upstream installation as
//! it was.

use super::checks::{self, Check};
use super::convert::{self, ChangeStep, How, SqlStep};
use super::fingerprint::{self, Adoptable, RECOUNT_PATH, RECOUNT_SQL};
use super::recognise::{self, OURS, Observed, Recognition};
use crate::db::{NoticeHandler, Settings};
use crate::engine::deploy::{check_extensions, check_kept_drift};
use crate::engine::execute::{Executor, Hooks, Work};
use crate::engine::plan::{DeployPlan, PlannedPackage};
use crate::engine::session::{Opening, Session};
use crate::engine::state::{ChangeState, ChangeStatus};
use crate::engine::{ChangeResult, Drift, DriftPolicy, Error, Outcome, Progress, TxScope};
use crate::package::Origin;
use crate::registry::{self, EventKind};
use serde::Serialize;
use std::time::{Duration, Instant};

pub struct AdoptOptions {
    pub dry_run: bool,
    /// How long to wait for the deploy lock, and in all for the table locks.
    pub lock_timeout: Duration,
    /// `--allow-role-changes`.
    pub allow_role_changes: bool,
}

/// How long one attempt at the table locks waits (`SET LOCAL
/// lock_timeout`) before it lets the workers queued behind it go on and
/// tries again: a waiting ACCESS EXCLUSIVE request blocks every later
/// worker call on those tables.
pub const TABLE_LOCK_ATTEMPT: Duration = Duration::from_secs(2);

const LOCK_TABLES: &str = "LOCK TABLE app_jobs.jobs, app_jobs.scheduled_jobs, app_jobs.job_queues IN ACCESS EXCLUSIVE MODE";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdoptOutcome {
    /// Converted and committed.
    Adopted,
    /// `--dry-run`: everything checked, nothing changed.
    WouldAdopt,
    NothingToAdopt,
    /// Not converted: `reasons` and the failed checks say why.
    Refused,
}

/// One step of the conversion, in the order it runs.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// `lock`, `dependency`, `registry`, `conversion`, `change`, `recount`, `commit`.
    pub phase: &'static str,
    pub name: String,
    pub how: String,
}

#[derive(Debug, Serialize)]
pub struct AdoptReport {
    pub database: String,
    pub dry_run: bool,
    pub outcome: AdoptOutcome,
    /// The recognised release, e.g. `@pgpm/database-jobs 0.16.0`.
    pub installation: Option<String>,
    /// What was found: why there is nothing to adopt, or why it is refused.
    pub reasons: Vec<String>,
    /// What the registry says about the dependencies upstream installed.
    pub dependencies: Vec<String>,
    pub checks: Vec<Check>,
    pub steps: Vec<StepReport>,
    /// The changes run or recorded (a real run).
    pub changes: Vec<ChangeResult>,
    pub registry_migrations: Vec<String>,
}

impl AdoptReport {
    fn refuse(&mut self, reasons: Vec<String>) {
        self.outcome = AdoptOutcome::Refused;
        self.reasons.extend(reasons);
    }
}

pub fn adopt(
    plan: &DeployPlan,
    settings: &Settings,
    options: &AdoptOptions,
    notices: NoticeHandler,
    progress: &mut dyn FnMut(Progress),
) -> Result<AdoptReport, Error> {
    let opening = if options.dry_run {
        Opening::read(Some(notices))
    } else {
        Opening::locked(options.lock_timeout, notices)
    };
    let mut session = Session::open(plan, settings, opening, progress)?;
    let mut report = AdoptReport {
        database: settings.describe(),
        dry_run: options.dry_run,
        outcome: AdoptOutcome::WouldAdopt,
        installation: None,
        reasons: Vec::new(),
        dependencies: Vec::new(),
        checks: Vec::new(),
        steps: Vec::new(),
        changes: Vec::new(),
        registry_migrations: Vec::new(),
    };
    let outcome = run(&mut session, plan, options, &mut report, progress);
    session.release();
    outcome.map(|()| report)
}

fn pgpm_jobs<'p>(plan: &'p DeployPlan<'p>) -> &'p PlannedPackage<'p> {
    plan.packages()
        .find(|p| p.name == OURS)
        .expect("the embedded workspace has pgpm-jobs")
}

fn run(
    session: &mut Session,
    plan: &DeployPlan,
    options: &AdoptOptions,
    report: &mut AdoptReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let client = session.client.as_mut().expect("the database exists");
    let ours: Vec<(&str, &str)> = pgpm_jobs(plan)
        .changes
        .iter()
        .map(|c| (c.name.as_str(), c.script_hash.as_str()))
        .collect();

    // What is there, read-only.
    let observed = observe(client)?;
    let known = match recognise::recognise(&observed, &ours, fingerprint::adoptable()) {
        Recognition::NothingToAdopt(why) => {
            report.outcome = AdoptOutcome::NothingToAdopt;
            report.reasons.push(why);
            return Ok(());
        }
        Recognition::Unknown(reasons) => {
            report.refuse(reasons);
            return Ok(());
        }
        Recognition::Known(known) => known,
    };
    report.installation = Some(known.fingerprint.describe());
    report.reasons.push(format!(
        "registry package {} is {} exactly as published ({}, every script hash equal)",
        known.fingerprint.package,
        known.fingerprint.describe(),
        crate::text::plural(known.fingerprint.changes.len(), "change")
    ));
    let dependents = recognise::registry_dependents(&observed.rows, &known.fingerprint.package);
    if !dependents.is_empty() {
        let mut reasons = vec![format!(
            "other deployed packages require changes of {}, whose registry rows adoption replaces: \
             revert them first, or adopt by hand",
            known.fingerprint.package
        )];
        reasons.extend(dependents);
        report.refuse(reasons);
    }

    // Dependencies (pgpm-verify, pgpm-default-roles), as deploy treats them.
    let mut pending: Vec<&ChangeStatus> = Vec::new();
    let mut kept: Vec<(&ChangeStatus, Drift)> = Vec::new();
    for status in &session.state.changes {
        if status.package.name == OURS {
            continue;
        }
        match &status.state {
            ChangeState::Pending => pending.push(status),
            ChangeState::Deployed { .. } => {}
            ChangeState::Drifted { deployed_hash, .. } => kept.push((
                status,
                Drift {
                    package: status.package.name.clone(),
                    change: status.change.name.clone(),
                    deployed_hash: deployed_hash.clone(),
                    local_hash: status.change.script_hash.clone(),
                    path: status.change.deploy.clone(),
                },
            )),
        }
    }
    describe_dependencies(plan, &observed, &pending, &kept, report);
    let roles_pending = pending
        .iter()
        .any(|s| s.package.name == "pgpm-default-roles");
    let check_options = checks::Options {
        roles_pending,
        allow_role_changes: options.allow_role_changes,
    };
    {
        let mut tx = client
            .transaction()
            .map_err(|e| Error::query("starting a read-only transaction", e))?;
        report.checks = checks::run(&mut tx, known, &check_options)
            .map_err(|e| Error::query("checking the installation", e))?;
        let _ = tx.rollback();
    }
    let refusing: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.refuses())
        .map(|c| format!("check {} failed: {}", c.name, c.summary))
        .collect();
    if !refusing.is_empty() {
        report.refuse(refusing);
    }
    let steps = convert::change_steps(pgpm_jobs(plan), known);
    let head = convert::sections(known.head, known.head_path);
    let tail = convert::sections(RECOUNT_SQL, RECOUNT_PATH);
    report.steps = describe_steps(known, &pending, &head, &steps, &tail);
    if report.outcome == AdoptOutcome::Refused {
        return Ok(());
    }
    // Kept drift is checked like deploy checks it (each verify script in
    // its own rolled-back transaction), before the conversion's transaction.
    for item in &kept {
        let policy = crate::engine::deploy::DriftPolicies::default()
            .for_package(&item.0.package.name, item.0.package.origin);
        if policy != DriftPolicy::Warn || item.0.package.origin == Origin::Workspace {
            report.refuse(vec![format!(
                "{}:{} is deployed with another script and may not be kept",
                item.1.package, item.1.change
            )]);
            return Ok(());
        }
    }
    check_kept_drift(client, &kept, progress)?;
    check_extensions(client, &pending)?;
    if options.dry_run {
        report.outcome = AdoptOutcome::WouldAdopt;
        return Ok(());
    }

    report.registry_migrations = registry::install(client)?.applied;
    let mut executor = Executor::new(client, TxScope::All);
    lock_tables(&mut executor, options.lock_timeout, progress)?;
    // Under the locks, the same inspection again: nothing may have changed
    // since the read-only look.
    let again = observe(executor.client).map_err(|e| rollback(&mut executor, e))?;
    if !matches!(
        recognise::recognise(&again, &ours, fingerprint::adoptable()),
        Recognition::Known(k) if std::ptr::eq(k, known)
    ) {
        executor.rollback();
        report.refuse(vec![
            "the installation changed between the checks and the table locks; nothing was changed: run jobsctl adopt again".into(),
        ]);
        return Ok(());
    }
    let rechecked = checks::run(executor.client, known, &check_options)
        .map_err(|e| rollback(&mut executor, Error::query("checking the installation", e)))?;
    executor
        .simple("RESET search_path", "resetting search_path")
        .map_err(|e| rollback(&mut executor, e))?;
    let refusing: Vec<String> = rechecked
        .iter()
        .filter(|c| c.refuses())
        .map(|c| {
            format!(
                "check {} failed under the table locks: {}",
                c.name, c.summary
            )
        })
        .collect();
    if !refusing.is_empty() {
        executor.rollback();
        report.checks = rechecked;
        report.refuse(refusing);
        return Ok(());
    }

    apply_dependencies(&mut executor, &pending, report, progress)?;
    forget_upstream(&mut executor, known)?;
    for step in &head {
        run_step(&mut executor, step)?;
    }
    apply_changes(&mut executor, &steps, report, progress)?;
    for step in &tail {
        run_step(&mut executor, step)?;
    }
    executor.commit()?;
    report.outcome = AdoptOutcome::Adopted;
    Ok(())
}

fn rollback(executor: &mut Executor, error: Error) -> Error {
    executor.rollback();
    error
}

/// The registry rows, whether app_jobs exists, and whether an extension owns it.
fn observe(client: &mut postgres::Client) -> Result<Observed, Error> {
    let rows = if registry::exists(client)? {
        registry::deployed_changes(client, None)?
    } else {
        Vec::new()
    };
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'app_jobs'), \
                    (SELECT e.extname || ' ' || e.extversion \
                       FROM pg_catalog.pg_depend d \
                       JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid \
                      WHERE d.deptype = 'e' AND d.refclassid = 'pg_catalog.pg_extension'::regclass \
                        AND ((d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid IN \
                               (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'app_jobs')) \
                          OR (d.classid = 'pg_catalog.pg_class'::regclass AND d.objid IN \
                               (SELECT c.oid FROM pg_catalog.pg_class c \
                                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                                 WHERE n.nspname = 'app_jobs'))) \
                      LIMIT 1)",
            &[],
        )
        .map_err(|e| Error::query("looking at the app_jobs schema", e))?;
    Ok(Observed {
        rows,
        schema_exists: row.get(0),
        extension: row.get(1),
    })
}

fn describe_dependencies(
    plan: &DeployPlan,
    observed: &Observed,
    pending: &[&ChangeStatus],
    kept: &[(&ChangeStatus, Drift)],
    report: &mut AdoptReport,
) {
    for package in plan.packages().filter(|p| p.name != OURS) {
        let deployed = observed
            .rows
            .iter()
            .filter(|r| r.package == package.name)
            .count();
        let release = recognise::dependency_release(&observed.rows, fingerprint::dependencies())
            .filter(|f| f.package == package.name)
            .map(|f| format!(" ({} as published)", f.describe()))
            .unwrap_or_default();
        let to_deploy = pending
            .iter()
            .filter(|s| s.package.name == package.name)
            .count();
        let drifted = kept
            .iter()
            .filter(|(s, _)| s.package.name == package.name)
            .count();
        report.dependencies.push(format!(
            "{}: {} recorded{release}; {} to deploy first, in the same transaction; {} deployed with other scripts, kept when jobsctl's verify scripts pass against them (as jobsctl deploy does)",
            package.name,
            crate::text::plural(deployed, "change"),
            to_deploy,
            drifted,
        ));
    }
}

fn describe_steps(
    known: &Adoptable,
    pending: &[&ChangeStatus],
    head: &[SqlStep],
    steps: &[ChangeStep],
    tail: &[SqlStep],
) -> Vec<StepReport> {
    let mut out = vec![StepReport {
        phase: "lock",
        name: LOCK_TABLES.to_owned(),
        how: format!(
            "in one transaction, after the deploy lock; each attempt waits {} s (lock_timeout) and is retried until --lock-timeout; the checks then run again under the locks",
            TABLE_LOCK_ATTEMPT.as_secs()
        ),
    }];
    for status in pending {
        out.push(StepReport {
            phase: "dependency",
            name: format!("{}:{}", status.package.name, status.change.name),
            how: "its deploy script, verbatim, recorded as jobsctl deploy records it".into(),
        });
    }
    out.push(StepReport {
        phase: "registry",
        name: format!("forget {}", known.fingerprint.package),
        how: format!(
            "delete its {} registry rows (their dependency rows go with them) and its package row, add a revert event for each; its earlier events stay as history",
            known.fingerprint.changes.len()
        ),
    });
    for step in head {
        out.push(StepReport {
            phase: "conversion",
            name: step.title.clone(),
            how: step.location.clone(),
        });
    }
    for step in steps {
        let mut how = step.how.describe().to_owned();
        if !step.functions.is_empty() {
            how.push_str(&format!(" ({})", step.functions.join(", ")));
        }
        out.push(StepReport {
            phase: "change",
            name: format!("{}:{}", step.package.name, step.change.name),
            how: format!("{how}; recorded as jobsctl deploy records it"),
        });
    }
    for step in tail {
        out.push(StepReport {
            phase: "recount",
            name: step.title.clone(),
            how: step.location.clone(),
        });
    }
    out.push(StepReport {
        phase: "commit",
        name: "COMMIT".into(),
        how: "everything above or nothing".into(),
    });
    out
}

/// BEGIN and the table locks, each attempt bounded by
/// [`TABLE_LOCK_ATTEMPT`], retried until `timeout`.
fn lock_tables(
    executor: &mut Executor,
    timeout: Duration,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let started = Instant::now();
    let mut next_message = Duration::ZERO;
    loop {
        executor.check_interrupt()?;
        executor.enter(OURS)?;
        let sql = format!(
            "SET LOCAL lock_timeout = '{}ms'; {LOCK_TABLES}",
            TABLE_LOCK_ATTEMPT.as_millis()
        );
        match executor.client.batch_execute(&sql) {
            Ok(()) => return Ok(()),
            Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                executor.rollback();
                let waited = started.elapsed();
                if waited >= timeout {
                    return Err(Error::Query(format!(
                        "gave up waiting for the app_jobs tables after {:.1} s: a transaction \
                         keeps app_jobs.jobs, scheduled_jobs or job_queues locked (see \
                         pg_locks / pg_stat_activity); nothing was changed; run jobsctl adopt \
                         again when it has ended, or raise --lock-timeout",
                        waited.as_secs_f64()
                    )));
                }
                if waited >= next_message {
                    progress(Progress::Note(format!(
                        "waiting for the app_jobs table locks ({:.0} s so far)",
                        waited.as_secs_f64()
                    )));
                    next_message = waited + Duration::from_secs(5);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => {
                executor.rollback();
                return Err(Error::query("locking the app_jobs tables", e));
            }
        }
    }
}

fn apply_dependencies(
    executor: &mut Executor,
    pending: &[&ChangeStatus],
    report: &mut AdoptReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let work: Vec<Work> = pending
        .iter()
        .map(|status| Work {
            package: status.package,
            change: status.change,
            replaces: false,
            undo_first: None,
            script: Some(&status.change.scripts.deploy),
            outside: false,
        })
        .collect();
    apply(executor, &work, report, progress)
}

fn apply_changes(
    executor: &mut Executor,
    steps: &[ChangeStep],
    report: &mut AdoptReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let work: Vec<Work> = steps
        .iter()
        .map(|step| Work {
            package: step.package,
            change: step.change,
            replaces: false,
            undo_first: None,
            script: match step.how {
                How::ReplacedByConversion => None,
                How::CreateOrReplace => step.rewritten.as_ref(),
                How::Verbatim => Some(&step.change.scripts.deploy),
            },
            outside: false,
        })
        .collect();
    let first = report.changes.len();
    apply(executor, &work, report, progress)?;
    for (result, step) in report.changes[first..].iter_mut().zip(steps) {
        if step.how == How::ReplacedByConversion {
            result.outcome = Outcome::Logged;
        }
    }
    Ok(())
}

/// The changes in the open transaction, recorded as deploy records them.
fn apply(
    executor: &mut Executor,
    work: &[Work],
    report: &mut AdoptReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let mut extensions_done: Vec<String> = Vec::new();
    let mut before = |executor: &mut Executor, item: &Work| {
        let package = &item.package.name;
        if extensions_done.contains(package) {
            return Ok(());
        }
        extensions_done.push(package.clone());
        executor.create_extensions(&item.package.extensions)
    };
    let mut record = |client: &mut postgres::Client, item: &Work| {
        Ok(registry::record_deploy(
            client,
            &item.package.name,
            &item.change.name,
            &item.change.script_hash,
            &item.change.requires,
        )?)
    };
    let hooks = Hooks {
        outcome: Outcome::Deployed,
        event: EventKind::Deploy,
        before: &mut before,
        record: &mut record,
        record_sql: None,
    };
    executor.apply_open(work, hooks, &mut report.changes, progress)
}

/// The upstream package's registry rows go (dependency rows cascade), its
/// package row too; a revert event per change says so in the history.
fn forget_upstream(executor: &mut Executor, known: &Adoptable) -> Result<(), Error> {
    let package = known.fingerprint.package.as_str();
    let result = (|| -> Result<(), postgres::Error> {
        let client = &mut *executor.client;
        let names: Vec<String> = client
            .query(
                "DELETE FROM pgpm_migrate.changes WHERE package = $1 RETURNING change_name",
                &[&package],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        client.execute(
            "DELETE FROM pgpm_migrate.packages WHERE package = $1",
            &[&package],
        )?;
        for name in &names {
            client.execute(
                "INSERT INTO pgpm_migrate.events (event_type, change_name, package) VALUES ('revert', $1, $2)",
                &[name, &package],
            )?;
        }
        Ok(())
    })();
    result.map_err(|e| {
        rollback(
            executor,
            Error::query(&format!("forgetting {package} in the registry"), e),
        )
    })
}

/// One section of our SQL, in the open transaction; on error the whole
/// transaction is rolled back and the error names the step.
fn run_step(executor: &mut Executor, step: &SqlStep) -> Result<(), Error> {
    executor.check_interrupt()?;
    match executor.client.batch_execute(&step.sql) {
        Ok(()) => Ok(()),
        Err(e) => {
            let error = if crate::interrupt::is_interrupted() {
                Error::Interrupted
            } else {
                let what = match e.as_db_error() {
                    Some(db) => format!(
                        "{} [SQLSTATE {}]{}{}",
                        db.message(),
                        db.code().code(),
                        db.detail()
                            .map(|d| format!("; detail: {d}"))
                            .unwrap_or_default(),
                        db.hint()
                            .map(|h| format!("; hint: {h}"))
                            .unwrap_or_default()
                    ),
                    None => e.to_string(),
                };
                Error::Query(format!(
                    "adopt step \"{}\" ({}) failed: {what}; the transaction was rolled back, \
                     nothing was changed",
                    step.title, step.location
                ))
            };
            Err(rollback(executor, error))
        }
    }
}
