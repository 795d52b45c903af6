//! Differential tests against pgpm itself (issue 13, part 6): the same
//! workspace deployed by pgpm's engine (npm `@pgpmjs/core`, pinned in
//! tests/pgpm/package-lock.json, driven by tests/pgpm/driver.js) and by
//! jobsctl into two fresh databases must give
//!
//! - the same registry rows (package, change, script_hash, change_id,
//!   dependencies; timestamps aside),
//! - the same `pg_dump --schema-only` outside `pgpm_migrate`,
//!
//! and each tool must accept what the other did: jobsctl `status` (all
//! deployed, no drift) and `verify` pass on pgpm's database, pgpm's verify
//! passes on jobsctl's, a revert by one tool of what the other deployed
//! leaves the catalog as it was before the deploy (native extensions
//! aside: neither tool drops them), and a redeploy after that is identical
//! again.
//!
//! Corpus: hand-made fixtures, one per rule (fixtures.rs); random
//! workspaces from fixed seeds (generator.rs; `JOBSCTL_PGPM_DIFF_RANDOM=N`
//! runs N instead of 50, `JOBSCTL_PGPM_DIFF_SEED=S` only seed S); published
//! `@pgpm/*` modules placed the way `pgpm install` places them (npm.rs);
//! mixed histories of pgpm and jobsctl on one database (mixed.rs).
//!
//! Needs node and npm (the test fails, saying so, without them); installs
//! tests/pgpm/node_modules with `npm ci` when it is missing.

#[path = "../common/mod.rs"]
mod common;

mod adopt;
mod compare;
mod driver;
mod fixtures;
mod generator;
mod mixed;
mod npm;

use common::jobsctl_on;
use common::pg::TestDb;
use compare::{Report, registry, schema_dump};
use driver::pgpm;
use std::path::Path;

/// Output of one jobsctl run: whether it exited 0, and what it printed.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub text: String,
}

/// `jobsctl ARGS...` on `db`.
pub fn jobsctl(db: &TestDb, args: &[&str]) -> Run {
    let out = jobsctl_on(db)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run jobsctl {args:?}: {e}"));
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        text: format!(
            "$ jobsctl {}\n(exit {:?})\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// What to deploy: a whole workspace, or one module (`-p` / pgpm's
/// `--package`), optionally only up to a change or `@tag` of it.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub module: Option<&'a str>,
    pub to: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub const ALL: Target<'static> = Target {
        module: None,
        to: None,
    };

    pub fn module(name: &'a str) -> Target<'a> {
        Target {
            module: Some(name),
            to: None,
        }
    }

    pub fn up_to(name: &'a str, to: &'a str) -> Target<'a> {
        Target {
            module: Some(name),
            to: Some(to),
        }
    }

    /// pgpm's target argument: `module` or `module:change`.
    fn pgpm(&self) -> Option<String> {
        match (self.module, self.to) {
            (Some(m), Some(to)) => Some(format!("{m}:{to}")),
            (Some(m), None) => Some(m.to_owned()),
            _ => None,
        }
    }

    /// jobsctl's `-w`, `-p` and `--to` arguments.
    fn jobsctl_args(&self, command: &str, workspace: &Path) -> Vec<String> {
        let mut args = vec![
            command.to_owned(),
            "-w".into(),
            workspace.display().to_string(),
        ];
        if let Some(m) = self.module {
            args.extend(["-p".into(), m.to_owned()]);
        }
        if let (Some(m), Some(to), true) = (self.module, self.to, command != "status") {
            args.extend(["--to".into(), format!("{m}:{to}")]);
        }
        args
    }
}

fn run_jobsctl(db: &TestDb, args: Vec<String>) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    jobsctl(db, &args)
}

/// Deploy `target` of `workspace` with pgpm into one fresh database and
/// with jobsctl into another, then run every comparison and cross-check of
/// the module documentation. Returns the problems found (empty: identical).
pub fn differential(label: &str, workspace: &Path, target: Target) -> Report {
    differential_with(label, workspace, target, true)
}

/// `differential`; with `pgpm_reverts` false, jobsctl reverts its own
/// deploy instead of pgpm (for a module pgpm cannot revert: one whose
/// control file and plan name different packages).
pub fn differential_with(
    label: &str,
    workspace: &Path,
    target: Target,
    pgpm_reverts: bool,
) -> Report {
    driver::ensure_installed();
    let mut report = Report::default();
    let by_pgpm = TestDb::new(&format!("p_{label}"));
    let by_jobsctl = TestDb::new(&format!("j_{label}"));
    let before = schema_dump(&by_pgpm, true);

    // 1. Deploy with each tool.
    let deployed = pgpm("deploy", workspace, target.pgpm().as_deref(), &by_pgpm);
    if !deployed.ok {
        report.fail(format!("pgpm deploy failed: {}", deployed.describe()));
        return report;
    }
    let run = run_jobsctl(&by_jobsctl, target.jobsctl_args("deploy", workspace));
    if !run.ok {
        report.fail(format!("jobsctl deploy failed:\n{}", run.text));
        return report;
    }

    // 2. Same registry rows, same schema.
    let (pgpm_rows, jobsctl_rows) = (registry(&by_pgpm), registry(&by_jobsctl));
    let (pgpm_dump, jobsctl_dump) = (
        schema_dump(&by_pgpm, false),
        schema_dump(&by_jobsctl, false),
    );
    report.same(
        "registry rows after deploy",
        ("pgpm", &pgpm_rows),
        ("jobsctl", &jobsctl_rows),
    );
    report.same(
        "pg_dump --schema-only after deploy",
        ("pgpm", &pgpm_dump),
        ("jobsctl", &jobsctl_dump),
    );
    if pgpm_rows.is_empty() {
        report.fail("pgpm deployed no change at all: the case tests nothing");
    }

    // 3. Cross-checks: each tool reads the other's database as its own.
    if target.to.is_none() {
        let run = run_jobsctl(&by_pgpm, {
            let mut a = target.jobsctl_args("status", workspace);
            a.push("--exit-code".into());
            a
        });
        if !run.ok {
            report.fail(format!(
                "jobsctl status on pgpm's database: not all deployed, or drift:\n{}",
                run.text
            ));
        }
    }
    let run = run_jobsctl(&by_pgpm, target.jobsctl_args("verify", workspace));
    if !run.ok {
        report.fail(format!(
            "jobsctl verify on pgpm's database failed:\n{}",
            run.text
        ));
    }
    let verified = pgpm("verify", workspace, target.pgpm().as_deref(), &by_jobsctl);
    if !verified.ok {
        report.fail(format!(
            "pgpm verify on jobsctl's database failed: {}",
            verified.describe()
        ));
    }

    // 4. Each tool reverts what the other deployed: the catalog is as
    // before the deploy (native extensions aside) and no change is left.
    if pgpm_reverts {
        let reverted = pgpm("revert", workspace, None, &by_jobsctl);
        if !reverted.ok {
            report.fail(format!(
                "pgpm revert of jobsctl's deploy failed: {}",
                reverted.describe()
            ));
        }
    } else {
        let args = ["revert", "-w", &workspace.display().to_string(), "-y"].map(str::to_owned);
        let run = run_jobsctl(&by_jobsctl, args.to_vec());
        if !run.ok {
            report.fail(format!(
                "jobsctl revert of its own deploy failed:\n{}",
                run.text
            ));
        }
    }
    // The whole workspace, like pgpm's revert without a module.
    let revert_args = vec![
        "revert".to_owned(),
        "-w".into(),
        workspace.display().to_string(),
        "-y".into(),
    ];
    let run = run_jobsctl(&by_pgpm, revert_args);
    if !run.ok {
        report.fail(format!(
            "jobsctl revert of pgpm's deploy failed:\n{}",
            run.text
        ));
    }
    for (who, db) in [
        ("pgpm reverted jobsctl's deploy", &by_jobsctl),
        ("jobsctl reverted pgpm's deploy", &by_pgpm),
    ] {
        let rows = registry(db);
        if !rows.is_empty() {
            report.fail(format!(
                "{who}: changes still recorded:\n  {}",
                rows.join("\n  ")
            ));
        }
        report.same(
            &format!("catalog before deploy and after revert ({who}; extensions aside)"),
            ("before", &before),
            ("after", &schema_dump(db, true)),
        );
    }
    if !report.is_clean() {
        return report;
    }

    // 5. Redeploy, each tool where the other reverted: identical again.
    let again = pgpm("deploy", workspace, target.pgpm().as_deref(), &by_jobsctl);
    if !again.ok {
        report.fail(format!(
            "pgpm redeploy (after its revert of jobsctl's deploy) failed: {}",
            again.describe()
        ));
        return report;
    }
    let run = run_jobsctl(&by_pgpm, target.jobsctl_args("deploy", workspace));
    if !run.ok {
        report.fail(format!(
            "jobsctl redeploy after pgpm's revert failed:\n{}",
            run.text
        ));
        return report;
    }
    report.same(
        "registry rows, first deploy and redeploy by pgpm",
        ("first", &pgpm_rows),
        ("again", &registry(&by_jobsctl)),
    );
    report.same(
        "pg_dump, first deploy and redeploy by pgpm",
        ("first", &pgpm_dump),
        ("again", &schema_dump(&by_jobsctl, false)),
    );
    report.same(
        "registry rows, first deploy and redeploy by jobsctl",
        ("first", &jobsctl_rows),
        ("again", &registry(&by_pgpm)),
    );
    report.same(
        "pg_dump, first deploy and redeploy by jobsctl",
        ("first", &jobsctl_dump),
        ("again", &schema_dump(&by_pgpm, false)),
    );
    report
}

/// `differential`, panicking with every problem found.
pub fn assert_same_under_both(label: &str, workspace: &Path, target: Target) {
    differential(label, workspace, target).finish(&format!("{label} ({})", workspace.display()));
}
