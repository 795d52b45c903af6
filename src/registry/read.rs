//! Reading the registry. Read-only: when the registry does not exist the
//! answers are empty and nothing is created.

use super::install::relation_exists;
use super::{DeployedChange, Event, EventKind, RegistryError};
use postgres::GenericClient;

/// A `timestamptz` column as RFC 3339 text in UTC with microseconds,
/// `2025-08-26T23:57:44.123456Z`, whatever the session's TimeZone and DateStyle.
macro_rules! utc_text {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// Every deployed change (of one package, or all), in deploy order:
/// `deployed_at`, then package, then change name (pgpm orders its own
/// ledger reads by `deployed_at`, then change name). `requires` are sorted,
/// as pgpm reads them.
pub fn deployed_changes(
    client: &mut impl GenericClient,
    package: Option<&str>,
) -> Result<Vec<DeployedChange>, RegistryError> {
    if !relation_exists(client, "changes")? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            concat!(
                "SELECT c.package, c.change_name, c.change_id, c.script_hash, ",
                utc_text!("c.deployed_at"),
                ", coalesce((SELECT array_agg(d.requires ORDER BY d.requires) \
                   FROM pgpm_migrate.dependencies AS d WHERE d.change_id = c.change_id), '{}') \
                 FROM pgpm_migrate.changes AS c \
                 WHERE $1::text IS NULL OR c.package = $1 \
                 ORDER BY c.deployed_at, c.package, c.change_name"
            ),
            &[&package],
        )
        .map_err(RegistryError::query(match package {
            Some(package) => format!("reading {package}'s deployed changes"),
            None => "reading the deployed changes".to_string(),
        }))?;
    Ok(rows
        .iter()
        .map(|row| DeployedChange {
            package: row.get(0),
            change_name: row.get(1),
            change_id: row.get(2),
            script_hash: row.get(3),
            deployed_at: row.get(4),
            requires: row.get(5),
        })
        .collect())
}

/// The newest `limit` events (of one package, or all), newest first: by
/// `event_id` descending, the order they were written in.
pub fn events(
    client: &mut impl GenericClient,
    package: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, RegistryError> {
    if !relation_exists(client, "events")? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            concat!(
                "SELECT e.event_id, e.event_type, e.package, e.change_name, ",
                utc_text!("e.occurred_at"),
                ", e.error_message, e.error_code \
                 FROM pgpm_migrate.events AS e \
                 WHERE $1::text IS NULL OR e.package = $1 \
                 ORDER BY e.event_id DESC \
                 LIMIT $2"
            ),
            &[&package, &limit.max(0)],
        )
        .map_err(RegistryError::query("reading the registry's events"))?;
    rows.iter()
        .map(|row| {
            let event_type: String = row.get(1);
            let event_type = EventKind::parse(&event_type).ok_or_else(|| {
                RegistryError::Unexpected(format!(
                    "event {} has the type {event_type:?}",
                    row.get::<_, i32>(0)
                ))
            })?;
            Ok(Event {
                event_id: row.get(0),
                event_type,
                package: row.get(2),
                change_name: row.get(3),
                occurred_at: row.get(4),
                error_message: row.get(5),
                error_code: row.get(6),
            })
        })
        .collect()
}
