//! The deploy lock: a session-level advisory lock on a dedicated
//! connection, tried in a loop until a timeout (never a waiting
//! `pg_advisory_lock`, which can deadlock against the holder's
//! `CREATE INDEX CONCURRENTLY`). Closing the connection releases it, so a
//! killed deployer never leaves it behind.

use super::Error;
use crate::db::Settings;
use crate::interrupt;
use std::time::{Duration, Instant};

/// "jobsctl\0" as a big-endian integer: the advisory lock key, per database.
pub const LOCK_KEY: i64 = 0x6A6F_6273_6374_6C00;

pub struct DeployLock {
    client: postgres::Client,
}

/// Who holds the lock, for the waiting message.
pub struct Holder {
    pub pid: i32,
    pub application_name: String,
    pub since: String,
}

impl DeployLock {
    /// Wait up to `timeout` for the lock; `waiting` is called when the lock
    /// is first found taken and then every few seconds.
    pub fn acquire(
        settings: &Settings,
        timeout: Duration,
        mut waiting: impl FnMut(&Option<Holder>, Duration),
    ) -> Result<DeployLock, Error> {
        let mut client = settings.connect(None)?;
        let started = Instant::now();
        let mut next_message = Duration::ZERO;
        let mut pause = Duration::from_millis(50);
        loop {
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .map_err(Error::lock)?;
            if row.get::<_, bool>(0) {
                return Ok(DeployLock { client });
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::LockTimeout {
                    waited,
                    holder: holder(&mut client).map(|h| describe(&h)),
                });
            }
            if interrupt::is_interrupted() {
                return Err(Error::Interrupted);
            }
            if waited >= next_message {
                waiting(&holder(&mut client), waited);
                next_message = waited + Duration::from_secs(5);
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    pub fn release(mut self) {
        // Closing the connection would release it too; unlocking says so explicitly.
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    }
}

fn holder(client: &mut postgres::Client) -> Option<Holder> {
    let high = (LOCK_KEY >> 32) as u32;
    let low = (LOCK_KEY & 0xFFFF_FFFF) as u32;
    let row = client
        .query_opt(
            "SELECT a.pid, coalesce(a.application_name, ''), coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid::text::bigint = $1 AND l.objid::text::bigint = $2 AND l.objsubid = 1 LIMIT 1",
            &[&i64::from(high), &i64::from(low)],
        )
        .ok()??;
    Some(Holder {
        pid: row.get(0),
        application_name: row.get(1),
        since: row.get(2),
    })
}

pub fn describe(holder: &Holder) -> String {
    let app = if holder.application_name.is_empty() {
        "unknown application"
    } else {
        &holder.application_name
    };
    format!(
        "held by pid {} ({app}, connected since {})",
        holder.pid, holder.since
    )
}
