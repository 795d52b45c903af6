//! Mixed histories: one database that pgpm and jobsctl take turns on.
//!
//! pgpm deploys published modules (an older release), jobsctl deploys its
//! embedded workspace (`jobsctl deploy` without `-w`) and then the newer
//! release of those modules, then pgpm deploys the newer release again.
//! Every step succeeds, both tools verify the result, and the registry
//! holds every row that pgpm alone would have written (the first deployed
//! version of each change: neither tool redeploys a change whose script a
//! newer release edited); what jobsctl adds is its embedded packages.

use crate::common::pg::TestDb;
use crate::compare::registry;
use crate::driver::pgpm;
use crate::jobsctl;
use crate::npm::installed;

/// Packages that only the embedded workspace brings.
const EMBEDDED: [&str; 3] = ["pgpm-jobs", "pgpm-default-roles", "pgpm-verify"];

/// How jobsctl meets the older release: its drifted changes kept (their
/// verify scripts pass), or refused and then replaced with
/// `--replace-drift` (the release lacks what the embedded scripts need).
#[derive(PartialEq)]
enum Older {
    Kept,
    Replaced,
}

fn history(label: &str, older: &[&str], newer: &[&str], meeting: Older) {
    let Some((old_ws, _)) = installed(older) else {
        return;
    };
    let Some((new_ws, _)) = installed(newer) else {
        return;
    };
    let (old_path, new_path) = (
        old_ws.path().display().to_string(),
        new_ws.path().display().to_string(),
    );
    let mut problems: Vec<String> = Vec::new();

    // The reference: pgpm alone, older then newer release.
    let reference = TestDb::new(&format!("{label}_pgpm_only"));
    for (ws, what) in [(old_ws.path(), "older"), (new_ws.path(), "newer")] {
        let o = pgpm("deploy", ws, None, &reference);
        assert!(
            o.ok,
            "{label}: pgpm alone, deploy of the {what} release failed: {}",
            o.describe()
        );
    }

    let db = TestDb::new(&format!("{label}_mixed"));
    let o = pgpm("deploy", old_ws.path(), None, &db);
    assert!(
        o.ok,
        "{label}: pgpm deploy of the older release failed: {}",
        o.describe()
    );

    if meeting == Older::Replaced {
        let run = jobsctl(&db, &["deploy"]);
        if run.ok || !run.text.contains("rerun with --replace-drift") {
            problems.push(format!(
                "jobsctl deploy over a release that lacks what its scripts need should stop and name --replace-drift:\n{}",
                run.text
            ));
        }
    }
    let first_deploy = match meeting {
        Older::Kept => vec!["deploy"],
        Older::Replaced => vec!["deploy", "--replace-drift"],
    };
    for args in [
        first_deploy,
        vec!["verify"],
        vec!["deploy", "-w", &new_path],
        vec!["verify", "-w", &new_path],
        vec!["status", "-w", &new_path],
    ] {
        let run = jobsctl(&db, &args);
        if !run.ok {
            problems.push(format!("jobsctl after pgpm's older release:\n{}", run.text));
        }
    }

    let o = pgpm("deploy", new_ws.path(), None, &db);
    if !o.ok {
        problems.push(format!(
            "pgpm deploy of the newer release after jobsctl failed: {}",
            o.describe()
        ));
    }
    for (ws, what) in [(new_ws.path(), "newer"), (old_ws.path(), "older")] {
        let o = pgpm("verify", ws, None, &db);
        if !o.ok {
            problems.push(format!(
                "pgpm verify of the {what} release after jobsctl failed: {}",
                o.describe()
            ));
        }
    }
    let run = jobsctl(&db, &["verify", "-w", &old_path]);
    if !run.ok {
        problems.push(format!(
            "jobsctl verify of the older release at the end:\n{}",
            run.text
        ));
    }

    let (alone, mixed) = (registry(&reference), registry(&db));
    // Replaced changes carry the embedded scripts' hashes, by design.
    let replaced = |row: &String| {
        meeting == Older::Replaced && EMBEDDED.contains(&row.split(' ').next().unwrap_or(""))
    };
    let lost: Vec<&String> = alone
        .iter()
        .filter(|r| !mixed.contains(r) && !replaced(r))
        .collect();
    if !lost.is_empty() {
        problems.push(format!(
            "rows pgpm alone writes that the mixed history lacks or wrote otherwise:\n  {}",
            lost.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    let foreign: Vec<&String> = mixed
        .iter()
        .filter(|r| !alone.contains(r) && !EMBEDDED.contains(&r.split(' ').next().unwrap_or("")))
        .collect();
    if !foreign.is_empty() {
        problems.push(format!(
            "rows of published packages that pgpm alone would not have written:\n  {}",
            foreign
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    assert!(
        problems.is_empty(),
        "{label}: {} problem(s)\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// `@pgpm/verify` 0.16.0 (with @pgpm/types and @pgpm/inflection) by pgpm,
/// then jobsctl's embedded workspace and `@pgpm/verify` 0.20.0 with
/// `@pgpm/base32` 0.20.0, then pgpm again.
#[test]
fn pgpm_verify_0_16_by_pgpm_then_jobsctl_embedded_and_0_20_then_pgpm_again() {
    history(
        "mixed_pgpm",
        &["old-pgpm-verify-0.16.0", "@pgpm/types", "@pgpm/inflection"],
        &["@pgpm/verify", "@pgpm/base32"],
        Older::Kept,
    );
}

/// The same with a release that edited a deployed script:
/// `@pgpm-testing/verify` 1.0.0 (deployed by pgpm as a dependency of
/// `@pgpm-testing/base32` 1.0.0) and 1.2.0 differ in
/// `procedures/verify_function.sql`. 1.0.0's `verify_function` cannot read
/// the signatures the embedded verify scripts pass it, so jobsctl refuses
/// to keep it and names `--replace-drift`, which deploys the embedded
/// scripts in its place; everything after that goes on as with a kept
/// release.
#[test]
fn edited_release_by_pgpm_then_jobsctl_embedded_and_newer_release_then_pgpm_again() {
    history(
        "mixed_edited",
        &["old-pgpm-testing-base32-1.0.0"],
        &["@pgpm-testing/verify"],
        Older::Replaced,
    );
}
