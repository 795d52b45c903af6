//! Which installation is there: from the registry rows (package, change
//! names, script hashes) and two facts from the catalog, either a known
//! release that `jobsctl adopt` converts, nothing to adopt, or a precise
//! description of what differs from every known release. Pure: rows in,
//! verdict out; no database access.

use super::fingerprint::{Adoptable, Fingerprint};
use crate::registry::DeployedChange;
use crate::text::plural;

/// Our package's registry name.
pub const OURS: &str = "pgpm-jobs";

/// What was read from the database.
#[derive(Debug, Default)]
pub struct Observed {
    /// Every row of `pgpm_migrate.changes` (empty without a registry).
    pub rows: Vec<DeployedChange>,
    /// The schema `app_jobs` exists.
    pub schema_exists: bool,
    /// The extension (`name version`) that objects of app_jobs belong to,
    /// when it was installed with CREATE EXTENSION.
    pub extension: Option<String>,
}

#[derive(Debug)]
pub enum Recognition<'k> {
    /// Nothing to convert; why.
    NothingToAdopt(String),
    /// A known release, exactly as published.
    Known(&'k Adoptable),
    /// Something else: what was found, and every difference.
    Unknown(Vec<String>),
}

/// `ours`: (change name, script hash) of jobsctl's pgpm-jobs, in plan order.
pub fn recognise<'k>(
    observed: &Observed,
    ours: &[(&str, &str)],
    known: &'k [Adoptable],
) -> Recognition<'k> {
    if let Some(extension) = &observed.extension {
        return Recognition::Unknown(vec![format!(
            "app_jobs was installed with CREATE EXTENSION (extension {extension}): its objects \
             belong to the extension and the registry does not record them, so jobsctl cannot \
             tell which release it is or convert it in place; jobsctl adopt converts \
             installations deployed by pgpm (registry package pgpm-database-jobs)"
        )]);
    }
    let rows_of = |package: &str| -> Vec<&DeployedChange> {
        observed
            .rows
            .iter()
            .filter(|r| r.package == package)
            .collect()
    };
    let mut upstream_packages: Vec<&str> = Vec::new();
    for k in known {
        let name = k.fingerprint.package.as_str();
        if !upstream_packages.contains(&name) && !rows_of(name).is_empty() {
            upstream_packages.push(name);
        }
    }
    let our_rows = rows_of(OURS);
    match (upstream_packages.as_slice(), our_rows.is_empty()) {
        ([], true) if observed.schema_exists => Recognition::Unknown(vec![
            "schema app_jobs exists, but the registry (pgpm_migrate) records no package that \
             made it (neither pgpm-database-jobs nor pgpm-jobs): it was made by hand, from a \
             SQL bundle or by another tool, and jobsctl cannot tell what it is"
                .to_owned(),
        ]),
        ([], true) => Recognition::NothingToAdopt(
            "no app_jobs schema and no upstream job package in the registry: nothing to adopt \
             (`jobsctl deploy` installs app_jobs)"
                .to_owned(),
        ),
        ([], false) => ours_or_unknown(&our_rows, ours),
        ([package], true) => {
            let rows = rows_of(package);
            let mut closest: Option<(&Adoptable, Vec<String>)> = None;
            for k in known.iter().filter(|k| k.fingerprint.package == *package) {
                let differences = differences(&rows, &k.fingerprint);
                if differences.is_empty() {
                    return Recognition::Known(k);
                }
                if closest
                    .as_ref()
                    .is_none_or(|(_, d)| differences.len() < d.len())
                {
                    closest = Some((k, differences));
                }
            }
            let (k, differences) = closest.expect("a known release of the package");
            let mut reasons = vec![format!(
                "registry package {package} ({}) is not {} as published: {} \
                 (an edited installation, or a release jobsctl has no fingerprint of)",
                plural(rows.len(), "change"),
                k.fingerprint.describe(),
                plural(differences.len(), "difference"),
            )];
            reasons.extend(differences);
            Recognition::Unknown(reasons)
        }
        (packages, _) => Recognition::Unknown(vec![format!(
            "the registry records more than one job package ({}): jobsctl adopts one \
             installation of app_jobs, not a mix",
            packages
                .iter()
                .copied()
                .chain((!our_rows.is_empty()).then_some(OURS))
                .collect::<Vec<_>>()
                .join(", ")
        )]),
    }
}

/// Registry package `pgpm-jobs`: jobsctl's own (nothing to adopt), or the
/// upstream `@pgpm/jobs`, which has the same project name and no fingerprint.
fn ours_or_unknown(rows: &[&DeployedChange], ours: &[(&str, &str)]) -> Recognition<'static> {
    let mut differences = Vec::new();
    for row in rows {
        match ours.iter().find(|(name, _)| *name == row.change_name) {
            None => differences.push(format!(
                "change {} is recorded (script_hash {}) but jobsctl's pgpm-jobs has no such change",
                row.change_name, row.script_hash
            )),
            Some((_, hash)) if *hash != row.script_hash => differences.push(format!(
                "change {}: recorded script_hash {}, jobsctl's is {hash}",
                row.change_name, row.script_hash
            )),
            Some(_) => {}
        }
    }
    if differences.is_empty() {
        return Recognition::NothingToAdopt(format!(
            "pgpm-jobs is jobsctl's own ({} of {} deployed, every script hash jobsctl's): \
             nothing to adopt; `jobsctl deploy` deploys what is pending",
            rows.len(),
            plural(ours.len(), "change"),
        ));
    }
    let mut reasons = vec![format!(
        "registry package pgpm-jobs ({}) is not jobsctl's: {} of its changes differ. \
         It is probably the upstream @pgpm/jobs (same project name), which is not published \
         on npm, so jobsctl has no fingerprint of it and cannot convert it; or an edited \
         installation",
        plural(rows.len(), "change"),
        differences.len()
    )];
    reasons.extend(differences);
    Recognition::Unknown(reasons)
}

/// Every difference between a package's registry rows and a release, by change.
pub fn differences(rows: &[&DeployedChange], release: &Fingerprint) -> Vec<String> {
    let mut out = Vec::new();
    for change in &release.changes {
        match rows.iter().find(|r| r.change_name == change.name) {
            None => out.push(format!(
                "missing: change {} of {} is not recorded as deployed",
                change.name,
                release.describe()
            )),
            Some(row) if row.script_hash != change.script_hash => out.push(format!(
                "different: change {}: recorded script_hash {}, {} has {}",
                change.name,
                row.script_hash,
                release.describe(),
                change.script_hash
            )),
            Some(_) => {}
        }
    }
    for row in rows {
        if release.hash_of(&row.change_name).is_none() {
            out.push(format!(
                "extra: change {} (script_hash {}) is recorded but is not a change of {}",
                row.change_name,
                row.script_hash,
                release.describe()
            ));
        }
    }
    out
}

/// Deployed changes of other packages that require a change of `package`
/// (`package:change` as stored): forgetting `package` would break them.
pub fn registry_dependents(rows: &[DeployedChange], package: &str) -> Vec<String> {
    let prefix = format!("{package}:");
    rows.iter()
        .filter(|r| r.package != package)
        .flat_map(|r| {
            r.requires
                .iter()
                .filter(|req| req.starts_with(&prefix))
                .map(move |req| format!("{}:{} requires {req}", r.package, r.change_name))
        })
        .collect()
}

/// Which published release of a dependency the rows of its package are, if any.
pub fn dependency_release<'f>(
    rows: &[DeployedChange],
    releases: &'f [Fingerprint],
) -> Option<&'f Fingerprint> {
    releases.iter().find(|f| {
        let mine: Vec<&DeployedChange> = rows.iter().filter(|r| r.package == f.package).collect();
        !mine.is_empty() && differences(&mine, f).is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::fingerprint::adoptable;

    fn row(package: &str, change: &str, hash: &str) -> DeployedChange {
        DeployedChange {
            package: package.into(),
            change_name: change.into(),
            change_id: String::new(),
            script_hash: hash.into(),
            deployed_at: String::new(),
            requires: Vec::new(),
        }
    }

    fn published() -> Vec<DeployedChange> {
        adoptable()[0]
            .fingerprint
            .changes
            .iter()
            .map(|c| row("pgpm-database-jobs", &c.name, &c.script_hash))
            .collect()
    }

    #[test]
    fn the_published_release_is_recognised() {
        let observed = Observed {
            rows: published(),
            schema_exists: true,
            extension: None,
        };
        assert!(matches!(
            recognise(&observed, &[], adoptable()),
            Recognition::Known(k) if k.fingerprint.version == "0.16.0"
        ));
    }

    #[test]
    fn an_edited_hash_a_missing_and_an_extra_change_are_each_named() {
        let mut rows = published();
        rows[3].script_hash = "0".repeat(64);
        let gone = rows.remove(5).change_name;
        rows.push(row("pgpm-database-jobs", "my/own/change", "abc"));
        let observed = Observed {
            rows,
            schema_exists: true,
            extension: None,
        };
        let Recognition::Unknown(reasons) = recognise(&observed, &[], adoptable()) else {
            panic!("accepted an edited installation");
        };
        let text = reasons.join("\n");
        assert!(text.contains("3 differences"), "{text}");
        assert!(
            text.contains(&format!("different: change {}", published()[3].change_name)),
            "{text}"
        );
        assert!(text.contains(&format!("missing: change {gone}")), "{text}");
        assert!(text.contains("extra: change my/own/change"), "{text}");
    }

    #[test]
    fn ours_is_nothing_to_adopt_and_another_pgpm_jobs_is_unknown() {
        let ours = [("schemas/app_jobs/schema", "h1"), ("x", "h2")];
        let observed = Observed {
            rows: vec![row(OURS, "schemas/app_jobs/schema", "h1")],
            schema_exists: true,
            extension: None,
        };
        assert!(matches!(
            recognise(&observed, &ours, adoptable()),
            Recognition::NothingToAdopt(_)
        ));
        let observed = Observed {
            rows: vec![row(OURS, "schemas/app_jobs/schema", "other")],
            schema_exists: true,
            extension: None,
        };
        let Recognition::Unknown(reasons) = recognise(&observed, &ours, adoptable()) else {
            panic!("took upstream pgpm-jobs for ours");
        };
        assert!(reasons[0].contains("@pgpm/jobs"), "{reasons:?}");
    }

    #[test]
    fn a_schema_without_registry_rows_or_made_by_an_extension_is_refused() {
        let bare = Observed {
            rows: Vec::new(),
            schema_exists: true,
            extension: None,
        };
        assert!(matches!(
            recognise(&bare, &[], adoptable()),
            Recognition::Unknown(_)
        ));
        let extension = Observed {
            rows: Vec::new(),
            schema_exists: true,
            extension: Some("pgpm-database-jobs 0.15.3".into()),
        };
        let Recognition::Unknown(reasons) = recognise(&extension, &[], adoptable()) else {
            panic!("accepted an extension");
        };
        assert!(reasons[0].contains("CREATE EXTENSION"));
        assert!(matches!(
            recognise(&Observed::default(), &[], adoptable()),
            Recognition::NothingToAdopt(_)
        ));
    }

    #[test]
    fn other_packages_requiring_the_upstream_package_are_listed() {
        let mut rows = published();
        let mut other = row("my-app", "tables/x", "h");
        other.requires = vec!["pgpm-database-jobs:schemas/app_jobs/schema".into()];
        rows.push(other);
        assert_eq!(
            registry_dependents(&rows, "pgpm-database-jobs"),
            ["my-app:tables/x requires pgpm-database-jobs:schemas/app_jobs/schema"]
        );
    }
}
