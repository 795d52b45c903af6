//! Known installations, as data: the fingerprints of published upstream
//! releases (SHA-256 of each deploy script, pgpm's `script_hash`, computed
//! from the npm packages and committed under `fingerprints/`; a test checks
//! them against `tests/pgpm/node_modules`), and for each release that can
//! be adopted, the shape of its `app_jobs` in the catalog and the SQL that
//! converts it (`sql/`).
//!
//! `@pgpm/jobs` (registry package `pgpm-jobs`, the non-tenant variant) is
//! not published on npm, so it has no fingerprint here: an installation of
//! it is described and refused (docs/pgpm-compat.md).

use serde::Deserialize;
use std::sync::OnceLock;

/// One published release of a pgpm package, as its plan and deploy scripts say.
#[derive(Debug, Deserialize)]
pub struct Fingerprint {
    /// The pgpm project name, as the registry's `package` column has it.
    pub package: String,
    pub npm_package: String,
    pub version: String,
    #[serde(default)]
    pub control_requires: Vec<String>,
    pub changes: Vec<FingerprintChange>,
}

#[derive(Debug, Deserialize)]
pub struct FingerprintChange {
    pub name: String,
    pub script_hash: String,
    #[serde(default)]
    pub requires: Vec<String>,
}

impl Fingerprint {
    /// `@pgpm/database-jobs 0.16.0`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.npm_package, self.version)
    }

    pub fn hash_of(&self, change: &str) -> Option<&str> {
        self.changes
            .iter()
            .find(|c| c.name == change)
            .map(|c| c.script_hash.as_str())
    }
}

/// An upstream release of app_jobs that `jobsctl adopt` converts.
#[derive(Debug)]
pub struct Adoptable {
    pub fingerprint: Fingerprint,
    /// `kind \t name \t definition` lines, sorted: what `sql/objects.sql`
    /// reads from a database where pgpm's engine deployed this release.
    pub objects: &'static str,
    /// The head: SQL run before our pgpm-jobs changes (`-- step:` sections).
    pub head: &'static str,
    /// Where the head comes from, for messages.
    pub head_path: &'static str,
    /// Changes of our pgpm-jobs the head stands in for: recorded, not run.
    pub replaced_changes: &'static [&'static str],
    /// Functions both packages have, with the same signature: our
    /// `CREATE FUNCTION app_jobs.<name>` is sent as `CREATE OR REPLACE`.
    pub shared_functions: &'static [&'static str],
}

/// The catalog query whose output `Adoptable::objects` holds.
pub const OBJECTS_SQL: &str = include_str!("sql/objects.sql");

/// The tail: run after every pgpm-jobs change.
pub const RECOUNT_SQL: &str = include_str!("sql/recount-job-queues.sql");
pub const RECOUNT_PATH: &str = "src/adopt/sql/recount-job-queues.sql";

const DATABASE_JOBS_0_16_0: &str = include_str!("fingerprints/pgpm-database-jobs@0.16.0.json");
const DATABASE_JOBS_0_16_0_OBJECTS: &str =
    include_str!("fingerprints/pgpm-database-jobs@0.16.0.objects.tsv");
const VERIFY_0_16_0: &str = include_str!("fingerprints/pgpm-verify@0.16.0.json");

/// Every adoptable release.
pub fn adoptable() -> &'static [Adoptable] {
    static KNOWN: OnceLock<Vec<Adoptable>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        vec![Adoptable {
            fingerprint: parse(DATABASE_JOBS_0_16_0),
            objects: DATABASE_JOBS_0_16_0_OBJECTS,
            head: include_str!("sql/pgpm-database-jobs-0.16.0.sql"),
            head_path: "src/adopt/sql/pgpm-database-jobs-0.16.0.sql",
            replaced_changes: &[
                "schemas/app_jobs/schema",
                "schemas/app_jobs/tables/job_queues/table",
                "schemas/app_jobs/tables/jobs/table",
                "schemas/app_jobs/tables/scheduled_jobs/table",
            ],
            shared_functions: &[
                "add_job",
                "add_scheduled_job",
                "complete_job",
                "complete_jobs",
                "fail_job",
                "get_job",
                "get_scheduled_job",
                "permanently_fail_jobs",
                "release_jobs",
                "release_scheduled_jobs",
                "reschedule_jobs",
                "run_scheduled_job",
                "tg_add_job_with_row",
                "tg_add_job_with_row_id",
            ],
        }]
    })
}

/// Published releases of the dependencies upstream installs next to
/// app_jobs (reported; their drift is handled as `jobsctl deploy` does).
pub fn dependencies() -> &'static [Fingerprint] {
    static KNOWN: OnceLock<Vec<Fingerprint>> = OnceLock::new();
    KNOWN.get_or_init(|| vec![parse(VERIFY_0_16_0)])
}

fn parse(json: &str) -> Fingerprint {
    serde_json::from_str(json).expect("the embedded fingerprints are valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fingerprints_parse_and_are_complete() {
        let known = &adoptable()[0];
        assert_eq!(known.fingerprint.package, "pgpm-database-jobs");
        assert_eq!(known.fingerprint.changes.len(), 35);
        assert!(
            known
                .fingerprint
                .changes
                .iter()
                .all(|c| c.script_hash.len() == 64)
        );
        assert_eq!(dependencies()[0].changes.len(), 19);
        assert!(known.objects.lines().all(|l| l.split('\t').count() == 3));
    }
}
