//! `jobsctl adopt`: take over an app_jobs installation that pgpm deployed
//! from an upstream package (`@pgpm/database-jobs` 0.16.0), in place and in
//! one transaction, so that the database reads exactly as if jobsctl's
//! pgpm-jobs had been deployed, without losing or re-running a job.
//!
//! - `fingerprint`: known releases as data (hashes from the npm packages,
//!   the catalog shape, the conversion SQL under `sql/`);
//! - `recognise`: registry rows → a known release, nothing to adopt, or
//!   every difference (pure);
//! - `checks`: read-only preconditions (catalog, rows, dependents, roles,
//!   ownership);
//! - `convert`: the steps, computed without a database (pure);
//! - `run`: the session, the one transaction, the registry rewrite.
//!
//! It sits above `engine` (it composes `Session`, `Executor` and the
//! registry writes) and below `commands`.

pub mod checks;
pub mod convert;
pub mod fingerprint;
pub mod recognise;
pub mod run;

pub use run::{AdoptOptions, AdoptOutcome, AdoptReport, adopt};
