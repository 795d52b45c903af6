//! The findings of jobsctl's embedded packages that are silenced by
//! jobsctl itself. Their scripts up to the last `@tag` are released: the
//! registry of every installation holds their hashes, so a directive added
//! to such a script would be drift everywhere. Each entry says why the
//! finding is safe where it is.

use super::rules::Allowance;
use squawk_linter::Rule;

/// (package, change, rule, reason)
const SILENCED: &[(&str, &str, Rule, &str)] = &[
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/jobs/indexes/jobs_database_id_key_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/jobs/indexes/jobs_runnable_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/jobs/indexes/jobs_queued_runnable_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/jobs/indexes/jobs_locked_at_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_database_id_key_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_unlocked_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_locked_by_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.1.0 with its table: the index is only pending on a table already deployed after a partial deploy (`--to`) of @0.1.0",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/scheduled_jobs/indexes/scheduled_jobs_next_run_at_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.2.0; scheduled_jobs holds one row per schedule (tens, not millions), so the write lock of the build is short",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/job_queues/indexes/job_queues_available_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.4.0; job_queues holds one row per named queue that has jobs, so the write lock of the build is short",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/job_queues/indexes/job_queues_locked_at_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.4.0; job_queues holds one row per named queue that has jobs, so the write lock of the build is short",
    ),
    (
        "pgpm-jobs",
        "schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx",
        Rule::RequireConcurrentIndexCreation,
        "released in @0.6.0; job_queues holds one row per named queue that has jobs (or is paused), so the write lock of the build is short",
    ),
];

/// The built-in allowances, for [`super::RuleConfig::new`].
pub fn allowances() -> Vec<Allowance> {
    SILENCED
        .iter()
        .map(|(package, change, rule, reason)| Allowance {
            package: (*package).to_owned(),
            change: (*change).to_owned(),
            rule: *rule,
            reason: (*reason).to_owned(),
            by: "jobsctl",
        })
        .collect()
}
