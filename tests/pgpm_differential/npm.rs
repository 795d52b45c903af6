//! Published pgpm modules from the npm registry (pinned in
//! tests/pgpm/package-lock.json, older releases under npm aliases), placed
//! in a workspace's extensions/ the way `pgpm install` places them: each
//! npm package that holds a pgpm.plan, its own and its dependencies',
//! under `extensions/<npm name>` (`extensions/@pgpm/verify`), without its
//! node_modules. Each is deployed on its own.

use crate::common::pg::TestDb;
use crate::compare::registry;
use crate::driver::pgpm;
use crate::driver::{ensure_installed, pgpm_dir};
use crate::fixtures::{Ws, available_extensions};
use crate::{Target, assert_same_under_both, differential_with, jobsctl};
use std::path::{Path, PathBuf};

fn manifest(dir: &Path) -> serde_json::Value {
    let path = dir.join("package.json");
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Node's resolution of `dependency` from the package in `from`.
fn resolve(from: &Path, dependency: &str) -> PathBuf {
    let top = pgpm_dir();
    let mut dir = Some(from);
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n != "node_modules") {
            let candidate = d.join("node_modules").join(dependency);
            if candidate.join("package.json").is_file() {
                return candidate;
            }
        }
        if d == top {
            break;
        }
        dir = d.parent();
    }
    panic!(
        "{dependency} (needed by {}) is not installed",
        from.display()
    )
}

/// The installed npm package `npm_dir` (a folder of tests/pgpm/node_modules)
/// and the pgpm modules among its dependencies, transitively: (npm name,
/// folder) pairs, the package itself first.
fn closure(npm_dir: &str) -> Vec<(String, PathBuf)> {
    let start = pgpm_dir().join("node_modules").join(npm_dir);
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let mut queue = vec![start];
    while let Some(dir) = queue.pop() {
        let m = manifest(&dir);
        let name = m["name"].as_str().unwrap().to_owned();
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if let Some(deps) = m["dependencies"].as_object() {
            for dep in deps.keys() {
                let found = resolve(&dir, dep);
                if found.join("pgpm.plan").is_file() {
                    queue.push(found);
                }
            }
        }
        out.push((name, dir));
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "node_modules" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The control file names (module names) in a folder.
fn control_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".control")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// `requires` of a control file, as listed.
fn control_requires(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "requires").then(|| value.trim().trim_matches('\'').to_owned())
        })
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A workspace with the npm packages `npm_dirs` installed in extensions/
/// as `pgpm install` does, and the name of the first one's module. `None`
/// (with the reason on stderr) when a module needs a native extension that
/// the test server lacks.
pub fn installed(npm_dirs: &[&str]) -> Option<(Ws, String)> {
    ensure_installed();
    let ws = Ws::new();
    let mut modules: Vec<String> = Vec::new();
    let mut controls: Vec<PathBuf> = Vec::new();
    let mut first = None;
    for npm_dir in npm_dirs {
        for (name, dir) in closure(npm_dir) {
            let dest = ws.path().join("extensions").join(&name);
            if dest.exists() {
                continue;
            }
            copy_tree(&dir, &dest);
            for control in control_names(&dest) {
                controls.push(dest.join(format!("{control}.control")));
                modules.push(control);
            }
            if first.is_none() {
                first = control_names(&dest).into_iter().next();
            }
        }
    }
    let natives: Vec<String> = controls
        .iter()
        .flat_map(|c| control_requires(c))
        .filter(|r| !modules.contains(r))
        .collect();
    let mut wanted: Vec<&str> = Vec::new();
    for n in &natives {
        if !wanted.contains(&n.as_str()) {
            wanted.push(n);
        }
    }
    let have = available_extensions(&wanted);
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !have.iter().any(|h| h == w))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "left out: {} needs the native extension(s) {} that this PostgreSQL server does not have",
            npm_dirs.join(" + "),
            missing.join(", ")
        );
        return None;
    }
    Some((ws, first.expect("a control file in the npm package")))
}

/// The cluster-wide group roles that published modules grant to and that
/// none of them creates (`pgpm-default-roles` does, and jobsctl's embedded
/// workspace): present, as on any database pgpm users deploy to.
pub fn default_roles() {
    let db = TestDb::new("default_roles");
    for role in ["anonymous", "authenticated", "administrator"] {
        // Another test may create it at the same time.
        let _ = db.client().batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN \
             CREATE ROLE {role} NOLOGIN; END IF; END $$"
        ));
    }
}

/// Deploy the published npm package `npm_dir` on its own with both tools.
fn published_module(label: &str, npm_dir: &str) {
    let Some((ws, module)) = installed(&[npm_dir]) else {
        return;
    };
    default_roles();
    assert_same_under_both(label, ws.path(), Target::module(&module));
}

/// `@pgpm-testing/base32` 1.0.0 installs `launchql-base32.control` and
/// requires `launchql-verify`, whose control file sits beside a plan of
/// `%project=pgpm-verify`. pgpm deploys both, but its revert (which picks
/// deployed modules by control name) leaves `pgpm-verify` deployed; so
/// jobsctl reverts its own deploy here.
#[test]
fn npm_pgpm_testing_base32_1_0_0() {
    let Some((ws, module)) = installed(&["old-pgpm-testing-base32-1.0.0"]) else {
        return;
    };
    default_roles();
    differential_with(
        "npm_pgpm_testing_base32_1_0_0",
        ws.path(),
        Target::module(&module),
        false,
    )
    .finish("npm_pgpm_testing_base32_1_0_0");
}

/// `@pgpm-testing/verify` 1.0.0 alone: pgpm cannot deploy its module
/// (`launchql-verify.control`, `%project=pgpm-verify`: `Module
/// "pgpm-verify" not found in modules list`); jobsctl deploys, verifies
/// and reverts it as the package its plan names.
#[test]
fn npm_pgpm_testing_verify_1_0_0_which_pgpm_cannot_deploy_alone() {
    let Some((ws, module)) = installed(&["old-pgpm-testing-verify-1.0.0"]) else {
        return;
    };
    assert_eq!(module, "launchql-verify");
    let db = TestDb::new("npm_testing_verify_1_0_0_pgpm");
    let outcome = pgpm("deploy", ws.path(), Some(&module), &db);
    assert!(
        !outcome.ok,
        "pgpm now deploys launchql-verify: make this test differential"
    );
    assert!(
        outcome.error.contains("not found"),
        "{}",
        outcome.describe()
    );

    let db = TestDb::new("npm_testing_verify_1_0_0_jobsctl");
    let path = ws.path().display().to_string();
    for args in [
        vec!["deploy", "-w", &path, "-p", &module],
        vec!["status", "-w", &path, "-p", &module, "--exit-code"],
        vec!["verify", "-w", &path, "-p", &module],
    ] {
        let run = jobsctl(&db, &args);
        assert!(run.ok, "{}", run.text);
    }
    assert!(
        registry(&db)
            .iter()
            .all(|row| row.starts_with("pgpm-verify "))
    );
    let run = jobsctl(&db, &["revert", "-w", &path, "-y"]);
    assert!(run.ok, "{}", run.text);
    assert!(registry(&db).is_empty());
}

macro_rules! published {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                published_module(stringify!($test), $dir);
            }
        )*
    };
}

published! {
    npm_pgpm_verify_0_20_0 => "@pgpm/verify",
    npm_pgpm_verify_0_19_1 => "old-pgpm-verify-0.19.1",
    npm_pgpm_verify_0_16_0 => "old-pgpm-verify-0.16.0",
    npm_pgpm_base32_0_20_0 => "@pgpm/base32",
    npm_pgpm_base32_0_19_1 => "old-pgpm-base32-0.19.1",
    npm_pgpm_types_0_16_0 => "@pgpm/types",
    npm_pgpm_inflection_0_16_0 => "@pgpm/inflection",
    npm_pgpm_database_jobs_0_16_0 => "@pgpm/database-jobs",
    npm_pgpm_metaschema_schema_0_16_3 => "@pgpm/metaschema-schema",
    npm_pgpm_services_0_16_3 => "@pgpm/services",
    npm_pgpm_metaschema_modules_0_16_4 => "@pgpm/metaschema-modules",
    npm_pgpm_testing_verify_1_2_0 => "@pgpm-testing/verify",
    npm_pgpm_testing_verify_1_1_0 => "old-pgpm-testing-verify-1.1.0",
    npm_pgpm_testing_base32_1_2_0 => "@pgpm-testing/base32",
    npm_pgpm_testing_base32_1_1_0 => "old-pgpm-testing-base32-1.1.0",
}
