//! The one executor: sends scripts to the server as top-level statements
//! (never through `EXECUTE` in a function) inside a transaction jobsctl
//! owns, or statement by statement outside any transaction for changes that
//! need it, and keeps track of which transaction is open.

use super::TxScope;
use super::failure::ScriptFailure;
use super::plan::{PlannedChange, PlannedPackage};
use super::{ChangeResult, Error, Outcome, Progress};
use crate::interrupt;
use crate::package::SqlFile;
use crate::registry::{self, EventKind};
use crate::script::StatementKind;
use std::time::Instant;

/// What puts a session back to its settings and role as connected.
const RESET_SESSION: &str = "RESET ALL; RESET ROLE";

pub struct Executor<'c> {
    pub client: &'c mut postgres::Client,
    scope: TxScope,
    open: bool,
    /// The package whose changes the open transaction holds.
    open_package: Option<String>,
    /// Counts the transactions begun, to tell them apart.
    generation: u64,
    /// A script may have changed the session's settings or role since the
    /// last reset (see [`Executor::reset_session`]).
    pub(super) dirty: bool,
    /// The change lock timeout and retries, when set
    /// ([`Executor::with_lock_policy`]).
    pub(super) locks: Option<super::lock_wait::Locks>,
    /// `BEGIN` is held back until something is sent in the transaction
    /// ([`Executor::lazy_begin`]), and then travels with it.
    lazy_begin: bool,
    /// The transaction is open for the executor but `BEGIN` not sent yet.
    begin_pending: bool,
}

impl<'c> Executor<'c> {
    pub fn new(client: &'c mut postgres::Client, scope: TxScope) -> Executor<'c> {
        Executor {
            client,
            scope,
            open: false,
            open_package: None,
            generation: 0,
            dirty: false,
            locks: None,
            lazy_begin: false,
            begin_pending: false,
        }
    }

    /// Hold `BEGIN` back until the transaction's first statement, and send
    /// it in the same round trip where the executor can (a change's script
    /// batch, see [`Executor::apply`]). Only for callers that reach the
    /// client through the executor's methods and hooks.
    pub fn lazy_begin(mut self) -> Self {
        self.lazy_begin = true;
        self
    }

    /// Send a held-back `BEGIN` now.
    pub fn ensure_begun(&mut self) -> Result<(), Error> {
        if self.begin_pending {
            self.begin_pending = false;
            self.client
                .batch_execute("BEGIN")
                .map_err(|e| Error::query("starting a transaction", e))?;
        }
        Ok(())
    }

    /// Run each change's statements under `policy` (a `lock_timeout`,
    /// retries after a lock timeout), watching who blocks them from a
    /// second connection opened with `settings`. An inactive policy
    /// changes nothing and opens nothing.
    pub fn with_lock_policy(
        mut self,
        settings: &crate::db::Settings,
        policy: super::lock_wait::LockPolicy,
    ) -> Result<Self, Error> {
        if policy.is_active() {
            self.locks = Some(super::lock_wait::Locks::open(
                self.client,
                settings,
                policy,
            )?);
        }
        Ok(self)
    }

    pub fn in_transaction(&self) -> bool {
        self.open
    }

    /// Which transaction is (or was last) open.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Make sure a transaction is open for a change of `package`, committing
    /// the previous one where the scope ends.
    pub fn enter(&mut self, package: &str) -> Result<(), Error> {
        let boundary = match self.scope {
            TxScope::Change => true,
            TxScope::Package => self.open_package.as_deref() != Some(package),
            TxScope::All => false,
        };
        if self.open && boundary {
            self.commit()?;
        }
        if !self.open {
            if self.lazy_begin {
                self.begin_pending = true;
            } else {
                self.simple("BEGIN", "starting a transaction")?;
            }
            self.open = true;
            self.generation += 1;
        }
        self.open_package = Some(package.to_owned());
        Ok(())
    }

    /// The change is done (and recorded, after [`Executor::reset_session`]):
    /// commit when the scope is one change.
    pub fn leave(&mut self) -> Result<(), Error> {
        if self.scope == TxScope::Change {
            return self.commit();
        }
        Ok(())
    }

    /// Back to the session's settings and role as connected, if a script
    /// may have changed them: a script's SET or SET ROLE must neither leak
    /// into the next script nor into jobsctl's registry statements (which
    /// a `SET ROLE` to an unprivileged role would make fail).
    pub fn reset_session(&mut self) -> Result<(), Error> {
        if self.dirty {
            self.simple(RESET_SESSION, "resetting session settings")?;
            self.dirty = false;
        }
        Ok(())
    }

    pub fn commit(&mut self) -> Result<(), Error> {
        if self.open {
            self.open = false;
            self.open_package = None;
            if std::mem::take(&mut self.begin_pending) {
                return Ok(()); // nothing was sent: nothing to commit
            }
            self.simple("COMMIT", "committing")?;
        }
        Ok(())
    }

    /// Roll back whatever is open; errors are ignored (a lost connection
    /// rolls back on the server anyway).
    pub fn rollback(&mut self) {
        if self.open {
            self.open = false;
            self.open_package = None;
            if !std::mem::take(&mut self.begin_pending) {
                let _ = self.client.batch_execute("ROLLBACK");
            }
        }
        // A rolled-back SET is undone; one outside a transaction is not.
        let _ = self.reset_session();
    }

    /// Leave any transaction before a change that must run outside one.
    pub fn step_outside(&mut self) -> Result<(), Error> {
        self.commit()
    }

    /// Run a script in the open transaction, its own transaction control
    /// blanked out so that error positions still match the file.
    pub fn run_in_transaction(
        &mut self,
        package: &str,
        change: &str,
        file: &SqlFile,
    ) -> Result<(), Box<ScriptFailure>> {
        debug_assert!(self.open);
        // The reset rides along in the same round trip when the script's
        // last statement is terminated: after the script's text, so error
        // positions still match the file (the newline ends a trailing `--`
        // comment). Otherwise it is sent on its own, so that an incomplete
        // last statement is reported "at end of input", as written.
        self.dirty = true;
        let mut batch = file.script.executable_text();
        let reset_too = file.script.ends_terminated();
        if reset_too {
            batch.push('\n');
            batch.push_str(RESET_SESSION);
        }
        self.client
            .batch_execute(&batch)
            .map_err(|e| Box::new(ScriptFailure::new(package, change, file, None, &e)))?;
        self.dirty = !reset_too;
        Ok(())
    }

    /// Run each statement on its own, outside a transaction block: what
    /// `CREATE INDEX CONCURRENTLY` and friends need.
    pub fn run_outside_transaction(
        &mut self,
        package: &str,
        change: &str,
        file: &SqlFile,
    ) -> Result<(), Box<ScriptFailure>> {
        debug_assert!(!self.open);
        let script = &file.script;
        self.dirty = true;
        for statement in &script.statements {
            if matches!(statement.kind, StatementKind::TransactionControl(_)) {
                continue;
            }
            self.client
                .batch_execute(script.statement_text(statement))
                .map_err(|e| {
                    Box::new(ScriptFailure::new(
                        package,
                        change,
                        file,
                        Some(statement),
                        &e,
                    ))
                })?;
        }
        Ok(())
    }

    /// One of jobsctl's own statements.
    pub fn simple(&mut self, sql: &str, doing: &str) -> Result<(), Error> {
        self.ensure_begun()?;
        self.client
            .batch_execute(sql)
            .map_err(|e| Error::query(doing, e))
    }

    /// `CREATE EXTENSION IF NOT EXISTS` for each name not installed yet
    /// (names are validated by the control-file parser: letters, digits,
    /// `_ - .`). Installed ones are skipped quietly, without the server's
    /// "already exists" notice.
    pub fn create_extensions(&mut self, names: &[String]) -> Result<(), Error> {
        if !names.is_empty() {
            self.ensure_begun()?;
        }
        for name in names {
            let installed = self
                .client
                .query_opt(
                    "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1",
                    &[name],
                )
                .map_err(|e| Error::query(&format!("looking up extension {name}"), e))?
                .is_some();
            if installed {
                continue;
            }
            let sql = format!(
                "CREATE EXTENSION IF NOT EXISTS {} CASCADE",
                quote_ident(name)
            );
            self.simple(&sql, &format!("creating extension {name}"))?;
        }
        Ok(())
    }

    pub fn check_interrupt(&mut self) -> Result<(), Error> {
        if interrupt::is_interrupted() {
            self.rollback();
            return Err(Error::Interrupted);
        }
        Ok(())
    }
}

/// A double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One change of the plan to apply in a run: which script runs (none when
/// only recording, as `--log-only` does), and whether outside a transaction.
pub struct Work<'a> {
    pub package: &'a PlannedPackage<'a>,
    pub change: &'a PlannedChange<'a>,
    /// A drifted change deployed again: its registry row is rewritten.
    pub replaces: bool,
    /// To undo what is deployed before `script` runs: the local revert
    /// script of a drifted change being replaced.
    pub undo_first: Option<&'a SqlFile>,
    pub script: Option<&'a SqlFile>,
    pub outside: bool,
}

/// What a run does around each change's script.
pub struct Hooks<'h> {
    /// On success.
    pub outcome: Outcome,
    /// The event type a failure is logged under.
    pub event: EventKind,
    /// Before the script, inside the change's transaction (or before it
    /// when the change runs outside one).
    pub before: &'h mut dyn FnMut(&mut Executor, &Work) -> Result<(), Error>,
    /// After the script, in the change's transaction: the registry rows.
    pub record: &'h mut dyn FnMut(&mut postgres::Client, &Work) -> Result<(), Error>,
    /// The registry rows as SQL to send in the same round trip as the
    /// script, when already checked: `Some(Some(sql))`, `Some(None)` when
    /// there is nothing to record; `None`: use `record`. Used for a change
    /// in a transaction without a lock policy, whose script (if any) ends
    /// with a terminated statement and that replaces nothing.
    pub record_sql: Option<&'h mut dyn FnMut(&Work) -> Option<Option<String>>>,
}

impl Executor<'_> {
    /// Apply every change in order under the transaction scope, reporting
    /// each result. The first failure rolls back its transaction (reporting
    /// the changes that went with it), is logged as an event that survives
    /// the rollback, and ends the run.
    pub fn apply(
        &mut self,
        work: &[Work],
        hooks: Hooks,
        results: &mut Vec<ChangeResult>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        self.apply_open(work, hooks, results, progress)?;
        self.commit()
    }

    /// [`Executor::apply`] without the final commit: with [`TxScope::All`]
    /// the transaction stays open for more work (`jobsctl adopt` runs its
    /// own SQL between and after the changes, all in one transaction).
    pub fn apply_open(
        &mut self,
        work: &[Work],
        mut hooks: Hooks,
        results: &mut Vec<ChangeResult>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        // (transaction, result index) of changes whose transaction is open.
        let mut in_open_tx: Vec<(u64, usize)> = Vec::new();
        for item in work {
            self.check_interrupt()?;
            let started = Instant::now();
            let batched = match &mut hooks.record_sql {
                Some(record_sql) if self.batchable(item) => record_sql(item),
                _ => None,
            };
            let attempt = match batched {
                Some(sql) => self.apply_batched(item, &mut *hooks.before, sql),
                None => self.apply_one(item, &mut *hooks.before, &mut *hooks.record, progress),
            };
            let transaction = if item.outside { "none" } else { "transaction" };
            let (package, change) = (item.package.name.as_str(), item.change.name.as_str());
            let result = |outcome| ChangeResult {
                package: package.to_owned(),
                change: change.to_owned(),
                outcome,
                duration_ms: started.elapsed().as_millis() as u64,
                transaction,
            };
            if let Err(error) = attempt {
                let failed_tx = self.in_transaction().then(|| self.generation());
                self.rollback();
                let mut rolled_back = Vec::new();
                for &(tx, i) in &in_open_tx {
                    if Some(tx) == failed_tx {
                        results[i].outcome = Outcome::RolledBack;
                        rolled_back.push(format!("{}:{}", results[i].package, results[i].change));
                    }
                }
                let (message, code) = match &error {
                    Error::ChangeFailed(f) => {
                        (f.message.clone(), f.sqlstate.clone().unwrap_or_default())
                    }
                    other => (other.to_string(), String::new()),
                };
                // Best effort: on a lost connection there is nowhere to log it.
                let _ = registry::record_event(
                    self.client,
                    hooks.event,
                    package,
                    change,
                    Some((&message, &code)),
                );
                results.push(result(Outcome::Failed));
                progress(Progress::Change(results.last().expect("just pushed")));
                if !rolled_back.is_empty() {
                    progress(Progress::Note(format!(
                        "rolled back with it: {}",
                        rolled_back.join(", ")
                    )));
                }
                return Err(if interrupt::is_interrupted() {
                    Error::Interrupted
                } else {
                    error
                });
            }
            results.push(result(if item.replaces {
                Outcome::Replaced
            } else {
                hooks.outcome
            }));
            if self.in_transaction() {
                in_open_tx.push((self.generation(), results.len() - 1));
            }
            progress(Progress::Change(results.last().expect("just pushed")));
        }
        Ok(())
    }

    fn apply_one(
        &mut self,
        item: &Work,
        before: &mut dyn FnMut(&mut Executor, &Work) -> Result<(), Error>,
        record: &mut dyn FnMut(&mut postgres::Client, &Work) -> Result<(), Error>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let package = item.package.name.as_str();
        if item.outside {
            self.step_outside()?;
            before(self, item)?;
            self.run_change(item, true, progress)?;
            self.enter(package)?;
        } else {
            self.enter(package)?;
            before(self, item)?;
            self.run_change(item, false, progress)?;
        }
        self.reset_session()?;
        self.ensure_begun()?;
        if self.locks.is_some() {
            // The registry's statements wait as long as they must: a lock
            // timeout there would fail a change that has run.
            self.simple(
                "SET LOCAL lock_timeout = 0",
                "resetting lock_timeout for the registry",
            )?;
        }
        record(self.client, item)?;
        self.leave()?;
        if item.outside {
            self.commit()?;
        }
        Ok(())
    }
}

impl Executor<'_> {
    /// Whether `item` can run in one batch with its registry SQL
    /// ([`Hooks::record_sql`]); otherwise it takes the
    /// statement-by-statement path.
    fn batchable(&self, item: &Work) -> bool {
        self.lazy_begin
            && !item.outside
            && !item.replaces
            && item.undo_first.is_none()
            && self.locks.is_none()
            && item.script.is_none_or(|f| f.script.ends_terminated())
    }

    /// One change in one round trip (and its `COMMIT` when the scope is one
    /// change): a held-back `BEGIN`, the script (its transaction control
    /// blanked out), the session reset and the registry call as one
    /// simple-query batch. The server stops at the first error and the
    /// transaction is rolled back as on the other path. An error raised in
    /// pgpm's routines or on the registry's tables is the registry's; any
    /// other is the script's, its position mapped back to the file.
    fn apply_batched(
        &mut self,
        item: &Work,
        before: &mut dyn FnMut(&mut Executor, &Work) -> Result<(), Error>,
        record: Option<String>,
    ) -> Result<(), Error> {
        let (package, change) = (item.package.name.as_str(), item.change.name.as_str());
        self.enter(package)?;
        before(self, item)?;
        let mut batch = String::new();
        const BEGIN: &str = "BEGIN;\n";
        let shift = if self.begin_pending {
            batch.push_str(BEGIN);
            BEGIN.len()
        } else {
            0
        };
        if let Some(file) = item.script {
            // After the script's text, so that error positions still match
            // the file (the newline ends a trailing `--` comment).
            batch.push_str(&file.script.executable_text());
            batch.push('\n');
            batch.push_str(RESET_SESSION);
            batch.push(';');
            self.dirty = true;
        }
        if let Some(sql) = &record {
            batch.push('\n');
            batch.push_str(sql);
            batch.push(';');
        }
        // No COMMIT in the batch: the server runs a batch to its end even
        // when the client died meanwhile, and a killed deployer's change
        // must roll back, not commit behind the next deployer's back.
        self.begin_pending = false;
        if let Err(e) = self.client.batch_execute(&batch) {
            let registry = e.as_db_error().is_some_and(|db| {
                db.schema() == Some(registry::SCHEMA)
                    || db.where_().is_some_and(|w| w.contains("pgpm_migrate."))
            });
            return Err(match item.script {
                Some(file) if !registry => Error::ChangeFailed(Box::new(ScriptFailure::shifted(
                    package, change, file, shift, &e,
                ))),
                _ => registry::RegistryError::query(format!(
                    "recording {package}:{change} as deployed"
                ))(e)
                .into(),
            });
        }
        self.dirty = false;
        self.leave()
    }
}

/// The connection scripts run on: Ctrl-C cancels its statement, and the
/// server checks every 2 s that jobsctl is still there (PostgreSQL 14+),
/// so that a killed deployer's transaction is rolled back promptly even in
/// the middle of a long statement.
pub fn open_session(
    settings: &crate::db::Settings,
    notices: crate::db::NoticeHandler,
) -> Result<postgres::Client, Error> {
    let mut client = settings.connect(Some(notices))?;
    interrupt::watch(settings, &client);
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map_err(|e| Error::query("reading the server version", e))?
        .get(0);
    if version >= 140_000 {
        client
            .batch_execute("SET client_connection_check_interval = '2s'")
            .map_err(|e| Error::query("setting client_connection_check_interval", e))?;
    }
    Ok(client)
}
