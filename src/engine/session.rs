//! The prologue that deploy, revert, verify and status share: take the
//! deploy lock where the command changes something, connect, read what the
//! registry says is deployed (nothing, where there is no registry yet), and
//! compare it with the plan.

use super::lock::{self, DeployLock};
use super::plan::DeployPlan;
use super::state::{State, compare};
use super::{Error, Progress, execute};
use crate::db::{NoticeHandler, Settings};
use crate::interrupt;
use crate::registry;
use std::time::Duration;

/// How a command opens its session.
pub struct Opening {
    /// Take the deploy lock first, waiting up to this long.
    pub lock: Option<Duration>,
    pub connection: Connection,
    /// Install or upgrade the registry before reading it (deploy).
    pub install_registry: bool,
}

impl Opening {
    /// A plain connection to read what is deployed: no lock, no registry
    /// install.
    pub fn read(notices: Option<NoticeHandler>) -> Opening {
        Opening {
            lock: None,
            connection: Connection::Read {
                notices,
                missing_database_ok: false,
            },
            install_registry: false,
        }
    }

    /// As [`Opening::read`], where a database that does not exist yet
    /// has nothing deployed (`deploy --createdb --dry-run`).
    pub fn read_or_missing(notices: NoticeHandler) -> Opening {
        Opening {
            connection: Connection::Read {
                notices: Some(notices),
                missing_database_ok: true,
            },
            ..Opening::read(None)
        }
    }

    /// The session scripts run on, after taking the deploy lock.
    pub fn locked(timeout: Duration, notices: NoticeHandler) -> Opening {
        Opening {
            lock: Some(timeout),
            connection: Connection::Scripts(notices),
            install_registry: false,
        }
    }
}

pub enum Connection {
    /// A plain connection, to read. A database that does not exist yet
    /// has nothing deployed when `missing_database_ok` (`deploy --createdb
    /// --dry-run`).
    Read {
        notices: Option<NoticeHandler>,
        missing_database_ok: bool,
    },
    /// The connection scripts run on ([`execute::open_session`]), with
    /// Ctrl-C handled.
    Scripts(NoticeHandler),
}

pub struct Session<'p> {
    /// None only for a database that does not exist yet
    /// (`Connection::Read { missing_database_ok: true, .. }`).
    pub client: Option<postgres::Client>,
    lock: Option<DeployLock>,
    /// The registry exists (after installing it, when the opening asked).
    pub has_registry: bool,
    /// Registry migrations applied while opening.
    pub registry_migrations: Vec<String>,
    /// Where the database stands against the plan, read after the lock
    /// was won (another deployer may have just finished).
    pub state: State<'p>,
}

impl<'p> Session<'p> {
    pub fn open(
        plan: &'p DeployPlan<'p>,
        settings: &Settings,
        opening: Opening,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Session<'p>, Error> {
        if let Connection::Scripts(_) = opening.connection {
            interrupt::install();
        }
        let lock = match opening.lock {
            Some(timeout) => Some(DeployLock::acquire(settings, timeout, |holder, waited| {
                progress(Progress::Waiting {
                    holder: holder.as_ref().map(lock::describe),
                    waited,
                })
            })?),
            None => None,
        };
        let mut client = match opening.connection {
            Connection::Scripts(notices) => Some(execute::open_session(settings, notices)?),
            Connection::Read {
                notices,
                missing_database_ok,
            } => match settings.connect(notices) {
                Ok(client) => Some(client),
                Err(e) if missing_database_ok && e.sqlstate() == Some("3D000") => None,
                Err(e) => return Err(e.into()),
            },
        };
        let mut registry_migrations = Vec::new();
        let mut has_registry = false;
        let mut deployed = Vec::new();
        if let Some(client) = &mut client {
            if opening.install_registry {
                registry_migrations = registry::install(client)?.applied;
                has_registry = true;
            } else {
                has_registry = registry::exists(client)?;
            }
            if has_registry {
                deployed = registry::deployed_changes(client, None)?;
            }
        }
        Ok(Session {
            client,
            lock,
            has_registry,
            registry_migrations,
            state: compare(plan, &deployed),
        })
    }

    /// Release the deploy lock, if taken (dropping the session closes its
    /// connection, which releases it too).
    pub fn release(self) {
        if let Some(lock) = self.lock {
            lock.release();
        }
    }
}
