//! Writing to the registry inside the caller's transaction.
//!
//! A deploy or revert is checked here first, with pgpm's rules and pgpm's
//! messages, so that a refusal comes back as a typed [`RegistryError`] and
//! leaves the caller's transaction usable. The rows are then written by
//! pgpm's own procedures with an empty script, the way pgpm records a change
//! without running it (`deploy(..., p_log_only => true)`, as its ledger
//! backfill does; `revert` with `''`, which `EXECUTE` runs as nothing): the
//! registry stays written by one definition, whichever tool made it.

use super::{EventKind, RegistryError};
use postgres::GenericClient;
use postgres::types::Type;

/// Record `package:change_name` as deployed with `script_hash`, requiring
/// `requires`. Bare requirement names are qualified with `package`, and
/// duplicates dropped (what pgpm's client does before it calls `deploy`);
/// tags must already be resolved to changes.
///
/// Already recorded with the same hash: nothing happens (pgpm skips it
/// too). Errors: [`RegistryError::DifferentContent`],
/// [`RegistryError::MissingRequirements`], [`RegistryError::SameScript`].
pub fn record_deploy(
    client: &mut impl GenericClient,
    package: &str,
    change_name: &str,
    script_hash: &str,
    requires: &[String],
) -> Result<(), RegistryError> {
    let target = format!("{package}:{change_name}");
    let requires = qualify(package, requires);

    // One round trip for every check (typed parameters skip the prepare
    // step): the hash already recorded, the requirements not deployed (pgpm's
    // rule: `is_deployed` with the change's package), and another change of
    // the package with the same script.
    let checks = client
        .query_typed_one(
            "SELECT \
               (SELECT script_hash FROM pgpm_migrate.changes WHERE package = $1 AND change_name = $2), \
               ARRAY(SELECT r.req FROM unnest($4::text[]) WITH ORDINALITY AS r(req, ord) \
                     WHERE NOT pgpm_migrate.is_deployed($1, r.req) ORDER BY r.ord), \
               (SELECT change_name FROM pgpm_migrate.changes WHERE package = $1 AND script_hash = $3 LIMIT 1)",
            &[
                (&package, Type::TEXT),
                (&change_name, Type::TEXT),
                (&script_hash, Type::TEXT),
                (&requires, Type::TEXT_ARRAY),
            ],
        )
        .map_err(RegistryError::query(format!(
            "checking {target} against the registry"
        )))?;
    if let Some(deployed_hash) = checks.get::<_, Option<String>>(0) {
        if deployed_hash == script_hash {
            return Ok(());
        }
        return Err(RegistryError::DifferentContent {
            package: package.into(),
            change: change_name.into(),
            deployed_hash,
            script_hash: script_hash.into(),
        });
    }
    let missing: Vec<String> = checks.get(1);
    if !missing.is_empty() {
        return Err(RegistryError::MissingRequirements {
            package: package.into(),
            change: change_name.into(),
            missing,
        });
    }
    if let Some(other) = checks.get::<_, Option<String>>(2) {
        return Err(RegistryError::SameScript {
            package: package.into(),
            change: change_name.into(),
            other,
            script_hash: script_hash.into(),
        });
    }

    // NULL for no requirements, as pgpm's client passes it.
    let requires = (!requires.is_empty()).then_some(requires);
    client
        .query_typed(
            "CALL pgpm_migrate.deploy($1, $2, $3, $4, ''::text, true)",
            &[
                (&package, Type::TEXT),
                (&change_name, Type::TEXT),
                (&script_hash, Type::TEXT),
                (&requires, Type::TEXT_ARRAY),
            ],
        )
        .map_err(RegistryError::query(format!(
            "recording {target} as deployed"
        )))?;
    Ok(())
}

/// Record `package:change_name`, deployed with another script before, as
/// deployed with `script_hash` now: the old row (and its dependency rows)
/// goes, the new one is recorded as [`record_deploy`] records it, with a
/// `deploy` event. Dependents keep requiring it by name.
pub fn record_replace(
    client: &mut impl GenericClient,
    package: &str,
    change_name: &str,
    script_hash: &str,
    requires: &[String],
) -> Result<(), RegistryError> {
    client
        .execute(
            "DELETE FROM pgpm_migrate.changes WHERE package = $1 AND change_name = $2",
            &[&package, &change_name],
        )
        .map_err(RegistryError::query(format!(
            "forgetting the drifted {package}:{change_name}"
        )))?;
    record_deploy(client, package, change_name, script_hash, requires)
}

/// Forget `package:change_name` and add a `revert` event. Errors:
/// [`RegistryError::NotDeployed`]; [`RegistryError::RequiredBy`] when a
/// deployed change requires it by its bare name (same package) or as
/// `package:change` (pgpm's rule); the dependency rows go with the change
/// (`ON DELETE CASCADE`).
pub fn record_revert(
    client: &mut impl GenericClient,
    package: &str,
    change_name: &str,
) -> Result<(), RegistryError> {
    let target = format!("{package}:{change_name}");
    let deployed: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pgpm_migrate.changes WHERE package = $1 AND change_name = $2)",
            &[&package, &change_name],
        )
        .map_err(RegistryError::query(format!("reading {target} from the registry")))?
        .get(0);
    if !deployed {
        return Err(RegistryError::NotDeployed {
            package: package.into(),
            change: change_name.into(),
        });
    }
    let requiring = requiring(client, package, change_name)?;
    if !requiring.is_empty() {
        let mut shown = Vec::new();
        for (dependent, dependency) in &requiring {
            // pgpm shows a dependent that stored the bare name by its bare name.
            let name = if dependency == change_name {
                dependent
                    .split_once(':')
                    .map_or(dependent.as_str(), |(_, change)| change)
                    .to_string()
            } else {
                dependent.clone()
            };
            if !shown.contains(&name) {
                shown.push(name);
            }
        }
        return Err(RegistryError::RequiredBy {
            package: package.into(),
            change: change_name.into(),
            dependents: distinct(requiring.into_iter().map(|(dependent, _)| dependent)),
            shown,
        });
    }
    client
        .execute(
            "CALL pgpm_migrate.revert($1::text, $2::text, ''::text)",
            &[&package, &change_name],
        )
        .map_err(RegistryError::query(format!(
            "recording {target} as reverted"
        )))?;
    Ok(())
}

/// The deployed changes (`package:change`) that require `package:change_name`,
/// by pgpm's rule (`pgpm_migrate.get_dependents`), ordered by package and change.
pub fn dependents(
    client: &mut impl GenericClient,
    package: &str,
    change_name: &str,
) -> Result<Vec<String>, RegistryError> {
    Ok(distinct(
        requiring(client, package, change_name)?
            .into_iter()
            .map(|(dependent, _)| dependent),
    ))
}

/// Add one event row. `error` is `(message, SQLSTATE)` for a failure.
/// Written by the caller's client; to keep a failure whose change was rolled
/// back, write it after the rollback (pgpm writes it on another connection,
/// outside the deploy's transaction).
pub fn record_event(
    client: &mut impl GenericClient,
    kind: EventKind,
    package: &str,
    change_name: &str,
    error: Option<(&str, &str)>,
) -> Result<(), RegistryError> {
    let (message, code) = error.unzip();
    client
        .execute(
            "INSERT INTO pgpm_migrate.events (event_type, change_name, package, error_message, error_code) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&kind.as_str(), &change_name, &package, &message, &code],
        )
        .map_err(RegistryError::query(format!("recording a {} event for {package}:{change_name}", kind.as_str())))?;
    Ok(())
}

/// (dependent as `package:change`, the requirement as stored), one row per
/// dependency row.
fn requiring(
    client: &mut impl GenericClient,
    package: &str,
    change_name: &str,
) -> Result<Vec<(String, String)>, RegistryError> {
    let rows = client
        .query(
            "SELECT d.package || ':' || d.change_name, d.dependency \
             FROM pgpm_migrate.get_dependents($1, $2) AS d",
            &[&package, &change_name],
        )
        .map_err(RegistryError::query(format!(
            "reading what requires {package}:{change_name}"
        )))?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Requirements as pgpm stores them: `package:change`, a bare name
/// belonging to `package`; first occurrence kept.
pub(super) fn qualify(package: &str, requires: &[String]) -> Vec<String> {
    distinct(requires.iter().map(|r| {
        if r.contains(':') {
            r.clone()
        } else {
            format!("{package}:{r}")
        }
    }))
}

fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_qualified_with_the_changes_package_and_deduplicated() {
        let given: Vec<String> = ["schema", "other:base", "pkg:schema", "other:base", "table"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            qualify("pkg", &given),
            ["pkg:schema", "other:base", "pkg:table"]
        );
        assert!(qualify("pkg", &[]).is_empty());
    }
}
