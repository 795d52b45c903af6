//! `jobsctl plan`: the deploy order of a workspace, computed offline.

mod common;

use common::{TempWorkspace, copy_embedded_workspace, jobsctl, json_stdout};
use predicates::prelude::*;
use serde_json::Value;

/// The parts of a plan that must not depend on where the files came from.
fn order(plan: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for step in plan["steps"].as_array().unwrap() {
        match step["step"].as_str().unwrap() {
            "extension" => out.push(format!("extension {}", step["name"].as_str().unwrap())),
            _ => {
                out.push(format!("package {}", step["name"].as_str().unwrap()));
                for change in step["changes"].as_array().unwrap() {
                    out.push(format!(
                        "  {} {} {} {}",
                        change["name"].as_str().unwrap(),
                        change["requires"],
                        change["script_hash"].as_str().unwrap(),
                        change["transaction"]["mode"].as_str().unwrap(),
                    ));
                }
            }
        }
    }
    out
}

fn plan_json(args: &[&str]) -> Value {
    let output = jobsctl()
        .arg("plan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_stdout(&output)
}

#[test]
fn embedded_workspace_deploys_dependencies_first() {
    let plan = plan_json(&[]);
    let headers: Vec<String> = order(&plan)
        .into_iter()
        .filter(|l| !l.starts_with("  "))
        .collect();
    assert_eq!(
        headers,
        [
            "extension plpgsql",
            "package pgpm-verify",
            "package pgpm-default-roles",
            "extension pgcrypto",
            "package pgpm-jobs",
        ]
    );
}

#[test]
fn embedded_cross_package_tags_resolve_to_changes() {
    let plan = plan_json(&["--package", "pgpm-jobs"]);
    let jobs = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pgpm-jobs")
        .unwrap();
    let requires = jobs["changes"][0]["requires"].as_array().unwrap();
    assert!(
        requires
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("pgpm-verify:")),
        "{requires:?}"
    );
    assert!(
        requires.iter().all(|r| !r.as_str().unwrap().contains('@')),
        "{requires:?}"
    );
}

#[test]
fn directory_copy_of_the_embedded_workspace_plans_the_same() {
    let dir = tempfile::tempdir().unwrap();
    copy_embedded_workspace(dir.path());
    let embedded = plan_json(&[]);
    let copied = plan_json(&["--workspace", dir.path().to_str().unwrap()]);
    assert_eq!(order(&copied), order(&embedded));
}

#[test]
fn human_output_numbers_changes_and_names_packages() {
    jobsctl()
        .arg("plan")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Deploy plan for embedded workspace: 3 packages, 2 extensions",
        ))
        .stdout(predicate::str::contains("package   pgpm-jobs 0.1.0"))
        .stdout(predicate::str::contains("extension pgcrypto"))
        .stderr(predicate::str::is_empty());
}

#[test]
fn json_output_is_exactly_one_document() {
    let output = jobsctl()
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut documents = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    assert!(documents.next().unwrap().is_ok());
    assert!(documents.next().is_none());
}

#[test]
fn package_filter_keeps_only_its_dependencies() {
    let plan = plan_json(&["--package", "pgpm-default-roles"]);
    let names: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "package")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pgpm-verify", "pgpm-default-roles"]);
}

#[test]
fn unknown_package_filter_is_a_usage_error() {
    jobsctl()
        .args(["plan", "--package", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no package `nope` in the workspace",
        ));
}

#[test]
fn missing_workspace_folder_is_a_usage_error() {
    jobsctl()
        .args(["plan", "--workspace", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such folder"));
}

#[test]
fn folder_without_package_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a pgpm package or workspace"));
}

#[test]
fn workspace_order_is_dependencies_first_then_plan_order() {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql", "lib", "uuid-ossp"])
        .change("app", "tables/users [lib:@v1]", "CREATE TABLE users();")
        .change(
            "app",
            "tables/posts [tables/users]",
            "CREATE TABLE posts();",
        );
    ws.package("lib", &["plpgsql"])
        .change("lib", "schema", "CREATE SCHEMA lib;")
        .plan_line("lib", &format!("@v1 {}", common::PLANNED))
        .change("lib", "later [schema]", "CREATE TABLE lib.t();");
    let plan = plan_json(&["--workspace", ws.path().to_str().unwrap()]);
    let lines = order(&plan);
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.trim().split(' ').take(2).last().unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|l| l.trim().split(' ').next().unwrap())
            .collect::<Vec<_>>(),
        [
            "extension",
            "package",
            "schema",
            "later",
            "extension",
            "package",
            "tables/users",
            "tables/posts"
        ],
        "{lines:#?}"
    );
    assert_eq!(names[0], "plpgsql");
    assert_eq!(names[1], "lib");
    assert_eq!(names[4], "uuid-ossp");
    assert!(lines[6].contains(r#"["lib:schema"]"#), "{}", lines[6]);
    assert!(lines[7].contains(r#"["app:tables/users"]"#), "{}", lines[7]);
}

#[test]
fn scoped_modules_under_extensions_are_found() {
    let ws = TempWorkspace::new();
    ws.write(
        "extensions/@acme/util/acme-util.control",
        "requires = ''\ndefault_version = '1.0.0'\n",
    )
    .write(
        "extensions/@acme/util/pgpm.plan",
        "%project=acme-util\n\nfirst\n",
    )
    .write("extensions/@acme/util/deploy/first.sql", "SELECT 1;\n")
    .write("extensions/@acme/util/revert/first.sql", "SELECT 1;\n")
    .write("extensions/@acme/util/verify/first.sql", "SELECT 1;\n");
    ws.package("app", &["acme-util"])
        .change("app", "one [acme-util:first]", "SELECT 1;");
    let plan = plan_json(&["--workspace", ws.path().to_str().unwrap()]);
    let headers: Vec<String> = order(&plan)
        .into_iter()
        .filter(|l| !l.starts_with("  "))
        .collect();
    assert_eq!(headers, ["package acme-util", "package app"]);
}

#[test]
fn single_package_folder_is_a_workspace_of_one() {
    let ws = TempWorkspace::new();
    ws.package("solo", &[]).change("solo", "one", "SELECT 1;");
    let plan = plan_json(&[
        "--workspace",
        ws.path().join("packages/solo").to_str().unwrap(),
    ]);
    assert_eq!(order(&plan).len(), 2);
}

#[test]
fn cycle_is_reported_with_its_full_path() {
    let ws = TempWorkspace::new();
    ws.package("a", &["b"]).change("a", "one", "SELECT 1;");
    ws.package("b", &["c"]).change("b", "one", "SELECT 1;");
    ws.package("c", &[]).change("c", "one [a:one]", "SELECT 1;");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dependency cycle: a → b → c → a"))
        .stderr(predicate::str::contains("packages/c/pgpm.plan:5"));
}

#[test]
fn unknown_cross_package_dependency_names_file_and_line() {
    let ws = TempWorkspace::new();
    ws.package("a", &[]).change("a", "one", "SELECT 1;").change(
        "a",
        "two [ghost:x b:nope b:@v9]",
        "SELECT 1;",
    );
    ws.package("b", &[]).change("b", "one", "SELECT 1;");
    ws.package("c", &[])
        .change("c", "one [missing]", "SELECT 1;");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("packages/a/pgpm.plan:6: change `two` requires `ghost:x`, but package `ghost` is not in the workspace"))
        .stderr(predicate::str::contains("packages/a/pgpm.plan:6: change `two` requires `b:nope`, but package `b` has no change `nope`"))
        .stderr(predicate::str::contains("packages/a/pgpm.plan:6: change `two` requires `b:@v9`, but package `b` has no tag `@v9`"))
        .stderr(predicate::str::contains("packages/c/pgpm.plan:5: change `one` requires `missing`, which is not in this plan"))
        .stderr(predicate::str::contains("4 problems found"));
}

#[test]
fn every_problem_of_every_package_is_reported_together() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .change("a", "one", "SELECT 1;")
        .remove("packages/a/revert/one.sql");
    ws.package("b", &[])
        .change("b", "one", "SELECT 1;")
        .remove("packages/b/verify/one.sql");
    ws.package("c", &[])
        .change("c", "one", "SELECT 1;")
        .write("packages/c/deploy/one.sql", "-- nothing\nBEGIN;\nCOMMIT;\n");
    ws.package("d", &[])
        .write("packages/d/d.control", "requires = 'plpgsql,,x'\n");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/a/revert/one.sql: missing revert script for change `one`",
        ))
        .stderr(predicate::str::contains(
            "packages/b/verify/one.sql: missing verify script for change `one`: the change is never verified (pgpm skips it too)",
        ))
        .stderr(predicate::str::contains(
            "packages/c/deploy/one.sql: deploy script for change `one` has no SQL statement: it deploys as a no-op",
        ))
        .stderr(predicate::str::contains(
            "packages/d/d.control:1: `requires` entry 2 is empty",
        ))
        .stderr(predicate::str::contains(
            "2 problems found; nothing was run",
        ));
    // --strict counts the warnings among them.
    jobsctl()
        .args(["plan", "--strict", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/c/deploy/one.sql: deploy script for change `one` has no SQL statement: it deploys as a no-op and is recorded as deployed, as in pgpm (an error with --strict)",
        ))
        .stderr(predicate::str::contains(
            "4 problems found; nothing was run",
        ));
}

#[test]
fn plan_errors_carry_the_plan_path_and_line() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .change("a", "one [two]", "SELECT 1;")
        .change("a", "two", "SELECT 1;");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/a/pgpm.plan:5: change `one` requires `two`, which is planned later (line 6)",
        ));
}

#[test]
fn project_pragma_that_differs_from_the_control_file_names_the_package_with_a_warning() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .write("packages/a/pgpm.plan", "%project=other\n");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("other"))
        .stderr(predicate::str::contains(
            "packages/a/pgpm.plan:1: `%project=other` does not match the control file `a.control`: pgpm records the changes under `other`, and so does jobsctl",
        ));
    jobsctl()
        .args(["plan", "--strict", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2);
}

#[test]
fn psql_meta_command_is_refused_with_its_position() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .change("a", "one", "SELECT 1;")
        .write("packages/a/deploy/one.sql", "SELECT 1;\n\\set x 1\n");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("packages/a/deploy/one.sql:2:1:"))
        .stderr(predicate::str::contains("psql meta-command"));
}

#[test]
fn concurrent_index_change_runs_without_a_transaction() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .change("a", "one", "CREATE TABLE t(x int);")
        .change("a", "idx [one]", "SELECT 1;")
        .write(
            "packages/a/deploy/idx.sql",
            "-- Deploy a:idx\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n",
        );
    let plan = plan_json(&["--workspace", ws.path().to_str().unwrap()]);
    let changes = &plan["steps"][0]["changes"];
    assert_eq!(changes[0]["transaction"]["mode"], "transactional");
    assert_eq!(
        changes[0]["transaction"]["removed"],
        serde_json::json!(["2: BEGIN", "4: COMMIT"])
    );
    assert_eq!(changes[1]["transaction"]["mode"], "none");
    assert_eq!(
        changes[1]["transaction"]["reason"],
        "CREATE INDEX CONCURRENTLY at line 2"
    );
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "idx  requires one  [no transaction: CREATE INDEX CONCURRENTLY at line 2]",
        ));
}

#[test]
fn concurrent_index_inside_begin_commit_is_refused() {
    let ws = TempWorkspace::new();
    ws.package("a", &[])
        .change("a", "idx", "CREATE INDEX CONCURRENTLY t_x ON t (x);");
    jobsctl()
        .args(["plan", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/a/deploy/idx.sql:2:1: change `idx` runs CREATE INDEX CONCURRENTLY (line 3)",
        ));
}

#[test]
fn invalid_json_errors_are_one_document_too() {
    let ws = TempWorkspace::new();
    ws.package("a", &[]).change("a", "one [nope]", "SELECT 1;");
    let output = jobsctl()
        .args(["plan", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let doc = json_stdout(&output);
    assert_eq!(doc["error"]["kind"], "invalid_workspace");
    assert_eq!(doc["error"]["exit_code"], 2);
    assert_eq!(doc["error"]["problems"][0]["line"], 5);
}

#[test]
fn help_documents_exit_codes() {
    for args in [vec!["--help"], vec!["plan", "--help"]] {
        jobsctl()
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Exit codes:"))
            .stdout(predicate::str::contains("130  interrupted"));
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    jobsctl().args(["plan", "--bogus"]).assert().code(2);
}
