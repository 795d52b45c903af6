//! `verify`: every deployed change's verify script (up to `--to`), each in a
//! transaction that is always rolled back. Every failure is collected and
//! reported with the server's own error; nothing deployed is a failure.

use super::TxScope;
use super::execute::Executor;
use super::failure::ScriptFailure;
use super::plan::DeployPlan;
use super::session::{Connection, Opening, Session};
use super::{ChangeResult, Error, Outcome, Progress, target};
use crate::db::{NoticeHandler, Settings};
use crate::interrupt;
use crate::registry;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub database: String,
    pub changes: Vec<ChangeResult>,
    /// Changes of the plan (up to the target) that are not deployed.
    pub pending: usize,
}

pub fn verify(
    plan: &DeployPlan,
    settings: &Settings,
    to: Option<&str>,
    notices: NoticeHandler,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport, Error> {
    let target = to
        .map(|t| target::find(plan, t).map_err(Error::Usage))
        .transpose()?;
    let opening = Opening {
        lock: None,
        connection: Connection::Scripts(notices),
        install_registry: false,
    };
    let mut session = Session::open(plan, settings, opening, progress)?;
    let state = &session.state;
    let client = session
        .client
        .as_mut()
        .expect("a session's database exists");
    let range = &state.changes[..target.map_or(state.changes.len(), |i| i + 1)];
    let mut report = VerifyReport {
        database: settings.describe(),
        changes: Vec::new(),
        pending: range.iter().filter(|c| !c.state.is_deployed()).count(),
    };
    if range.iter().all(|c| !c.state.is_deployed()) {
        return Err(Error::NothingDeployed {
            database: settings.describe(),
        });
    }
    let mut executor = Executor::new(client, TxScope::Change);
    let mut failures: Vec<ScriptFailure> = Vec::new();
    for status in range.iter().filter(|c| c.state.is_deployed()) {
        executor.check_interrupt()?;
        let (package, change) = (&status.package.name, &status.change.name);
        let file = &status.change.scripts.verify;
        let started = Instant::now();
        executor.enter(package)?;
        let outcome = executor.run_in_transaction(package, change, file);
        executor.rollback();
        if interrupt::is_interrupted() {
            return Err(Error::Interrupted);
        }
        let result = ChangeResult {
            package: package.clone(),
            change: change.clone(),
            outcome: if outcome.is_ok() {
                Outcome::Verified
            } else {
                Outcome::Failed
            },
            duration_ms: started.elapsed().as_millis() as u64,
            transaction: "transaction",
        };
        progress(Progress::Change(&result));
        report.changes.push(result);
        if let Err(failure) = outcome {
            // Like pgpm, a failed verify is logged as an event.
            let code = failure.sqlstate.clone().unwrap_or_default();
            let _ = registry::record_event(
                executor.client,
                registry::EventKind::Verify,
                package,
                change,
                Some((&failure.message, &code)),
            );
            failures.push(*failure);
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(Error::VerifyFailed { failures })
    }
}
