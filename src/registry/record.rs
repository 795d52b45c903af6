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

/// One change a run will record with [`deploy_call`], in run order, for
/// [`check_deploys`].
pub struct PlannedRecord<'a> {
    pub package: &'a str,
    pub change_name: &'a str,
    pub script_hash: &'a str,
    pub requires: &'a [String],
}

/// [`record_deploy`]'s checks for every change of a run at once, in one
/// round trip before the run: each answer is what `record_deploy` would
/// decide when it comes to that change, given that the changes before it in
/// `records` were recorded by then and that nothing else writes the
/// registry meanwhile (the deploy lock; pgpm's procedure, which
/// [`deploy_call`] calls, checks again on the server in any case).
/// `Ok(true)`: record it; `Ok(false)`: already recorded with that hash.
pub fn check_deploys(
    client: &mut impl GenericClient,
    records: &[PlannedRecord],
) -> Result<Vec<Result<bool, RegistryError>>, RegistryError> {
    use std::collections::{HashMap, HashSet};
    if records.is_empty() {
        return Ok(Vec::new());
    }
    // Requirements as (package, change): pgpm's `is_deployed` split.
    fn split(package: &str, requirement: &str) -> (String, String) {
        match requirement.split_once(':') {
            Some((p, c)) => (p.to_owned(), c.to_owned()),
            None => (package.to_owned(), requirement.to_owned()),
        }
    }
    let qualified: Vec<Vec<String>> = records
        .iter()
        .map(|r| qualify(r.package, r.requires))
        .collect();
    let mut packages: Vec<String> = records.iter().map(|r| r.package.to_owned()).collect();
    for (r, requires) in records.iter().zip(&qualified) {
        packages.extend(requires.iter().map(|req| split(r.package, req).0));
    }
    packages.sort_unstable();
    packages.dedup();
    let rows = client
        .query_typed(
            "SELECT package, change_name, script_hash FROM pgpm_migrate.changes WHERE package = ANY($1)",
            &[(&packages, Type::TEXT_ARRAY)],
        )
        .map_err(RegistryError::query(
            "checking the changes to record against the registry",
        ))?;
    // (package, change) -> hash, and (package, hash) -> change, as recorded.
    let mut by_name: HashMap<(String, String), String> = HashMap::new();
    let mut by_hash: HashMap<(String, String), String> = HashMap::new();
    for row in &rows {
        let (package, change, hash): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        by_hash
            .entry((package.clone(), hash.clone()))
            .or_insert_with(|| change.clone());
        by_name.insert((package, change), hash);
    }
    let mut recorded_now: HashSet<(String, String)> = HashSet::new();
    let mut answers = Vec::with_capacity(records.len());
    for (r, requires) in records.iter().zip(&qualified) {
        let key = (r.package.to_owned(), r.change_name.to_owned());
        if let Some(deployed_hash) = by_name.get(&key) {
            answers.push(if deployed_hash == r.script_hash {
                Ok(false)
            } else {
                Err(RegistryError::DifferentContent {
                    package: r.package.into(),
                    change: r.change_name.into(),
                    deployed_hash: deployed_hash.clone(),
                    script_hash: r.script_hash.into(),
                })
            });
            continue;
        }
        let missing: Vec<String> = requires
            .iter()
            .filter(|req| !by_name.contains_key(&split(r.package, req)))
            .cloned()
            .collect();
        if !missing.is_empty() {
            answers.push(Err(RegistryError::MissingRequirements {
                package: r.package.into(),
                change: r.change_name.into(),
                missing,
            }));
            continue;
        }
        let hash_key = (r.package.to_owned(), r.script_hash.to_owned());
        if let Some(other) = by_hash.get(&hash_key) {
            answers.push(Err(RegistryError::SameScript {
                package: r.package.into(),
                change: r.change_name.into(),
                other: other.clone(),
                script_hash: r.script_hash.into(),
            }));
            continue;
        }
        // What the changes after it will see: this one recorded.
        if recorded_now.insert(key.clone()) {
            by_name.insert(key.clone(), r.script_hash.to_owned());
            by_hash.insert(hash_key, key.1);
        }
        answers.push(Ok(true));
    }
    Ok(answers)
}

/// The statement that records `package:change_name` with pgpm's own
/// procedure, exactly as [`record_deploy`] calls it (log-only, empty
/// script, NULL for no requirements), its values written as SQL string
/// literals ([`quote_literal`]) so that it can travel in one simple-query
/// batch with the change's script. Only jobsctl's own values (names from
/// the plan, the hash) go in. No check here: see [`check_deploys`].
pub fn deploy_call(
    package: &str,
    change_name: &str,
    script_hash: &str,
    requires: &[String],
) -> String {
    let requires = qualify(package, requires);
    let requires = if requires.is_empty() {
        "NULL::text[]".to_string()
    } else {
        let items: Vec<String> = requires.iter().map(|r| quote_literal(r)).collect();
        format!("ARRAY[{}]::text[]", items.join(", "))
    };
    format!(
        "CALL pgpm_migrate.deploy({}::text, {}::text, {}::text, {requires}, ''::text, true)",
        quote_literal(package),
        quote_literal(change_name),
        quote_literal(script_hash),
    )
}

/// A SQL string literal for `value`, read the same whatever
/// `standard_conforming_strings` says (libpq's `PQescapeLiteral` rule):
/// quotes doubled; with a backslash, the `E'...'` form with backslashes
/// doubled. PostgreSQL text cannot hold a NUL; it is dropped.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    if value.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
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

    #[test]
    fn literals_are_quoted_whatever_standard_conforming_strings_says() {
        assert_eq!(quote_literal("a"), "'a'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(quote_literal("x\0y"), "'xy'");
        assert_eq!(
            deploy_call("p", "c", "h", &["a".into(), "q:b".into()]),
            "CALL pgpm_migrate.deploy('p'::text, 'c'::text, 'h'::text, ARRAY['p:a', 'q:b']::text[], ''::text, true)"
        );
        assert_eq!(
            deploy_call("p", "c", "h", &[]),
            "CALL pgpm_migrate.deploy('p'::text, 'c'::text, 'h'::text, NULL::text[], ''::text, true)"
        );
    }
}
