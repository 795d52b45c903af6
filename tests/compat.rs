//! What pgpm accepts, jobsctl accepts, the same way (docs/pgpm-compat.md):
//! empty scripts, folders with several control files, modules defined
//! twice, packages jobsctl embeds, modules another tool installed; and the
//! few places where jobsctl stays stricter. One test per rule.

mod common;

use common::pg::TestDb;
use common::{TempWorkspace, jobsctl, jobsctl_on, json_stdout};
use predicates::prelude::*;

fn count(db: &TestDb, sql: &str) -> i64 {
    db.value(sql).unwrap().parse().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn deploy(db: &TestDb, ws: &TempWorkspace) -> assert_cmd::assert::Assert {
    jobsctl_on(db)
        .args(["deploy", "-w"])
        .arg(ws.path())
        .assert()
}

#[test]
fn comment_only_and_transaction_only_scripts_deploy_revert_and_verify_as_no_ops() {
    let db = TestDb::new("noop_scripts");
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "schemas/public/schema", "")
        .write(
            "packages/app/deploy/schemas/public/schema.sql",
            "-- Deploy app:schemas/public/schema to pg\n",
        )
        .write(
            "packages/app/revert/schemas/public/schema.sql",
            "BEGIN;\nCOMMIT;\n",
        )
        .write("packages/app/verify/schemas/public/schema.sql", "")
        .change("app", "t [schemas/public/schema]", "CREATE TABLE t ();")
        .write(
            "packages/app/revert/t.sql",
            "-- nothing to undo: a fixture\n",
        );
    deploy(&db, &ws)
        .success()
        .stderr(predicate::str::contains(
            "deploy script for change `schemas/public/schema` has no SQL statement: it deploys as a no-op",
        ))
        .stderr(predicate::str::contains(
            "revert script for change `t` has no SQL statement: reverting the change leaves what its deploy script created in place",
        ));
    // Recorded as pgpm records it: the hash of the file's bytes.
    let bytes = std::fs::read(
        ws.path()
            .join("packages/app/deploy/schemas/public/schema.sql"),
    )
    .unwrap();
    assert_eq!(
        db.value("SELECT script_hash FROM pgpm_migrate.changes WHERE change_name = 'schemas/public/schema'"),
        Some(sha256_hex(&bytes))
    );
    jobsctl_on(&db)
        .args(["verify", "-w"])
        .arg(ws.path())
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["revert", "-y", "-w"])
        .arg(ws.path())
        .assert()
        .success();
    assert_eq!(count(&db, "SELECT count(*) FROM pgpm_migrate.changes"), 0);
    // The fixture's revert did nothing, as written.
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_class WHERE relname = 't'"),
        1
    );
}

#[test]
fn warnings_are_a_json_array_of_the_one_document() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "anchor", "")
        .write("packages/app/deploy/anchor.sql", "-- an anchor\n");
    let document = json_stdout(
        &jobsctl()
            .args(["plan", "--format", "json", "-w"])
            .arg(ws.path())
            .output()
            .unwrap(),
    );
    let warnings = document["warnings"].as_array().expect("a warnings array");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["kind"], "workspace");
    assert!(
        warnings[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("packages/app/deploy/anchor.sql")
    );
    assert!(document["steps"].is_array());
}

#[test]
fn strict_in_jobsctl_toml_makes_warnings_errors() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "anchor", "")
        .write("packages/app/deploy/anchor.sql", "-- an anchor\n")
        .write("jobsctl.toml", "[defaults]\nstrict = true\n");
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(an error with --strict)"));
}

#[test]
fn a_zero_byte_deploy_script_is_a_no_op_whose_warning_says_pgpm_refuses_it() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "anchor", "")
        .write("packages/app/deploy/anchor.sql", "");
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the file is empty (zero bytes), which pgpm refuses as a missing script",
        ));
}

#[test]
fn two_changes_with_identical_deploy_scripts_are_refused_before_deploying() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "one", "")
        .change("app", "two", "")
        .write("packages/app/deploy/one.sql", "-- anchor\n")
        .write("packages/app/deploy/two.sql", "-- anchor\n");
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "deploy script of change `two` is identical to that of `one`: the registry records one change per script hash and package",
        ));
}

#[test]
fn a_change_name_that_leaves_the_package_folder_is_refused() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).plan_line(
        "app",
        &format!("a/../../../../../tmp/evil {}", common::PLANNED),
    );
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "pgpm.plan:5: change `a/../../../../../tmp/evil` names a script outside the package folder",
        ));
}

#[test]
fn a_folder_with_two_control_files_is_two_modules_of_one_package() {
    let db = TestDb::new("two_controls");
    let ws = TempWorkspace::new();
    ws.package("measurements", &["plpgsql"])
        .change("measurements", "tables/m", "CREATE TABLE m ();")
        .write(
            "packages/measurements/pgpm-measurements.control",
            "comment = 'the same module under its new name'\ndefault_version = '0.0.1'\nrequires = 'plpgsql'\n",
        );
    ws.package("app", &["pgpm-measurements"]).change(
        "app",
        "t [measurements:tables/m]",
        "CREATE TABLE t ();",
    );
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
    // Either module name selects it; changes are recorded under `%project`.
    jobsctl_on(&db)
        .args(["deploy", "-p", "pgpm-measurements", "-w"])
        .arg(ws.path())
        .assert()
        .success();
    deploy(&db, &ws).success();
    assert_eq!(
        db.column("SELECT package || ':' || change_name FROM pgpm_migrate.changes ORDER BY 1"),
        [
            Some("app:t".to_owned()),
            Some("measurements:tables/m".to_owned())
        ]
    );
}

#[test]
fn control_files_below_a_package_folder_are_modules_too() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "t", "CREATE TABLE t ();")
        .write(
            "packages/app/nested/inner/inner.control",
            "default_version = '0.0.1'\n",
        )
        .write(
            "packages/app/nested/inner/pgpm.plan",
            "%syntax-version=1.0.0\n%project=inner\n\n",
        );
    let document = json_stdout(
        &jobsctl()
            .args(["plan", "--format", "json", "-w"])
            .arg(ws.path())
            .output()
            .unwrap(),
    );
    let names: Vec<&str> = document["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(names.contains(&"inner"), "{names:?}");
}

#[test]
fn a_module_defined_twice_is_taken_from_the_shorter_path_with_a_warning() {
    let ws = TempWorkspace::new();
    ws.package("util", &[])
        .change("util", "short", "CREATE TABLE short_one ();");
    ws.write(
        "extensions/@scope/util/util.control",
        "default_version = '9.9.9'\n",
    )
    .write(
        "extensions/@scope/util/pgpm.plan",
        format!("%project=util\n\nlong {}\n", common::PLANNED),
    );
    let output = jobsctl()
        .args(["plan", "--format", "json", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let util = document["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "util")
        .unwrap();
    assert_eq!(util["changes"][0]["name"], "short");
    let warning = document["warnings"][0]["message"].as_str().unwrap();
    assert!(
        warning.contains("module `util` is also defined by")
            && warning.contains("the shorter path wins"),
        "{warning}"
    );
}

#[test]
fn a_workspace_package_that_requires_pgpm_jobs_deploys_with_the_embedded_packages() {
    let db = TestDb::new("requires_jobs");
    let ws = TempWorkspace::new();
    ws.package("shop", &["pgpm-jobs"]).change(
        "shop",
        "tables/orders [pgpm-jobs:@0.4.0]",
        "CREATE TABLE orders (id int);",
    );
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "using jobsctl's embedded pgpm-jobs",
        ))
        .stdout(predicate::str::contains("embedded:"));
    deploy(&db, &ws).success();
    assert_eq!(
        db.column("SELECT DISTINCT package FROM pgpm_migrate.changes ORDER BY 1"),
        ["pgpm-default-roles", "pgpm-jobs", "pgpm-verify", "shop"].map(|s| Some(s.to_owned()))
    );
    assert_eq!(count(&db, "SELECT count(*) FROM app_jobs.jobs"), 0);
    jobsctl_on(&db)
        .args(["verify", "-w"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn a_workspace_copy_of_an_embedded_package_wins() {
    let ws = TempWorkspace::new();
    ws.package("shop", &["pgpm-verify"])
        .change("shop", "t", "CREATE TABLE t ();");
    ws.write(
        "extensions/@pgpm/verify/pgpm-verify.control",
        "default_version = '0.0.9'\n",
    )
    .write(
        "extensions/@pgpm/verify/pgpm.plan",
        "%project=pgpm-verify\n\n",
    );
    let document = json_stdout(
        &jobsctl()
            .args(["plan", "--format", "json", "-w"])
            .arg(ws.path())
            .output()
            .unwrap(),
    );
    let verify = document["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pgpm-verify")
        .unwrap();
    assert_eq!(verify["origin"], "installed");
    assert_eq!(verify["version"], "0.0.9");
}

#[test]
fn a_missing_native_extension_fails_before_anything_runs() {
    let db = TestDb::new("missing_ext");
    let ws = TempWorkspace::new();
    ws.package("base", &[])
        .change("base", "t", "CREATE TABLE t ();");
    ws.package("geo", &["base", "no_such_extension_here"])
        .change("geo", "g", "CREATE TABLE g ();");
    deploy(&db, &ws)
        .code(1)
        .stderr(predicate::str::contains(
            "package geo requires the extension no_such_extension_here, which this server does not have",
        ));
    assert_eq!(
        count(&db, "SELECT count(*) FROM pgpm_migrate.changes"),
        0,
        "nothing ran"
    );
}

/// A workspace whose `extensions/` holds a module `lib` as another tool
/// (or an older release) deployed it, and the same module as the
/// workspace now has it: same change names, other script bytes.
fn installed_lib(ws: &TempWorkspace, deploy_sql: &str, verify_sql: &str) {
    ws.write(
        "extensions/@acme/lib/lib.control",
        "default_version = '1.0.0'\nrequires = 'plpgsql'\n",
    )
    .write(
        "extensions/@acme/lib/pgpm.plan",
        format!("%project=lib\n\nfunctions/hello {}\n", common::PLANNED),
    )
    .write(
        "extensions/@acme/lib/deploy/functions/hello.sql",
        deploy_sql,
    )
    .write(
        "extensions/@acme/lib/revert/functions/hello.sql",
        "DROP FUNCTION hello();\n",
    )
    .write(
        "extensions/@acme/lib/verify/functions/hello.sql",
        verify_sql,
    );
}

/// A database where `app`, requiring the installed module `lib`, was
/// deployed with `lib`'s first release.
fn app_on_lib_v1(label: &str) -> (TestDb, TempWorkspace) {
    let db = TestDb::new(label);
    let ws = TempWorkspace::new();
    ws.package("app", &["lib"])
        .change("app", "t", "CREATE TABLE t ();");
    installed_lib(&ws, HELLO_V1, "SELECT hello();\n");
    deploy(&db, &ws).success();
    (db, ws)
}

const HELLO_V1: &str =
    "CREATE FUNCTION hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hello' $$;\n";
const HELLO_V2: &str = "-- 1.1: a comment, the same function\nCREATE FUNCTION hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hello' $$;\n";

#[test]
fn drift_in_an_installed_module_is_kept_when_its_verify_scripts_pass() {
    let (db, ws) = app_on_lib_v1("kept_drift");
    // The module is upgraded on disk; the database keeps the old release.
    installed_lib(&ws, HELLO_V2, "SELECT hello();\n");
    ws.change("app", "u", "CREATE TABLE u ();");
    let output = jobsctl_on(&db)
        .args(["deploy", "--format", "json", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["changes"][0]["change"], "u");
    let warning = &document["warnings"][0];
    assert_eq!(warning["kind"], "kept_drift");
    assert_eq!(warning["package"], "lib");
    assert_eq!(warning["drift"][0]["change"], "functions/hello");
    assert_eq!(
        warning["drift"][0]["local_hash"],
        sha256_hex(HELLO_V2.as_bytes())
    );
    assert_eq!(
        warning["drift"][0]["deployed_hash"],
        sha256_hex(HELLO_V1.as_bytes())
    );
    // The deployed row is left as it was.
    assert_eq!(
        db.value(
            "SELECT script_hash FROM pgpm_migrate.changes WHERE change_name = 'functions/hello'"
        ),
        Some(sha256_hex(HELLO_V1.as_bytes()))
    );
}

#[test]
fn status_exit_code_passes_kept_drift_and_fails_it_with_strict() {
    let (db, ws) = app_on_lib_v1("status_drift");
    installed_lib(&ws, HELLO_V2, "SELECT hello();\n");
    jobsctl_on(&db)
        .args(["status", "--exit-code", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("drifted  functions/hello"));
    jobsctl_on(&db)
        .args(["status", "--exit-code", "--strict", "-w"])
        .arg(ws.path())
        .assert()
        .code(1);
}

#[test]
fn drift_in_an_installed_module_is_an_error_with_strict_or_its_package_setting() {
    let (db, ws) = app_on_lib_v1("strict_drift");
    installed_lib(&ws, HELLO_V2, "SELECT hello();\n");
    jobsctl_on(&db)
        .args(["deploy", "--strict", "-w"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "drift: lib:functions/hello was deployed with script hash",
        ));
    ws.write("jobsctl.toml", "[packages.lib]\ndrift = \"error\"\n");
    deploy(&db, &ws).code(1).stderr(predicate::str::contains(
        "1 deployed change differs from the local deploy script",
    ));
}

#[test]
fn drift_in_an_installed_module_whose_verify_fails_stops_the_deploy() {
    let (db, ws) = app_on_lib_v1("unverified_drift");
    // The new release's function has another name: the old one does not provide it.
    installed_lib(
        &ws,
        "CREATE FUNCTION hello2() RETURNS text LANGUAGE sql AS $$ SELECT 'hi' $$;\n",
        "SELECT hello2();\n",
    );
    ws.change("app", "u", "CREATE TABLE u ();");
    deploy(&db, &ws)
        .code(1)
        .stderr(predicate::str::contains("verify of drifted change failed"))
        .stderr(predicate::str::contains("hello2"))
        .stderr(predicate::str::contains("nothing was deployed"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_class WHERE relname = 'u'"),
        0
    );
}

#[test]
fn drift_in_the_workspace_own_package_stays_an_error() {
    let db = TestDb::new("own_drift");
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "t", "CREATE TABLE t ();");
    deploy(&db, &ws).success();
    ws.write("packages/app/deploy/t.sql", "CREATE TABLE t (id int);\n");
    deploy(&db, &ws).code(1).stderr(predicate::str::contains(
        "1 deployed change differs from the local deploy script",
    ));
}

#[test]
fn a_pgpm_apply_json_proxy_module_is_reported_as_unsupported() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "t", "CREATE TABLE t ();")
        .write(
            "packages/tenant/pgpm.apply.json",
            r#"{ "source": "app", "schemas": { "app": "tenant_app" } }"#,
        );
    jobsctl()
        .args(["plan", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "packages/tenant/pgpm.apply.json: pgpm.apply.json proxy modules (a module pgpm transpiles from another) are not supported",
        ));
}

#[test]
fn replace_drift_deploys_the_local_scripts_in_place_of_a_drifted_installed_change() {
    let (db, ws) = app_on_lib_v1("replace_drift");
    // The installed release's function does not provide what the local one does.
    let hello_v3 = "CREATE FUNCTION hello(who text DEFAULT 'you') RETURNS text LANGUAGE sql AS $$ SELECT 'hello ' || who $$;\n";
    installed_lib(&ws, hello_v3, "SELECT hello('me');\n");
    ws.write(
        "extensions/@acme/lib/revert/functions/hello.sql",
        "DROP FUNCTION IF EXISTS hello();\nDROP FUNCTION IF EXISTS hello(text);\n",
    );
    deploy(&db, &ws)
        .code(1)
        .stderr(predicate::str::contains("rerun with --replace-drift"));
    jobsctl_on(&db)
        .args(["deploy", "--replace-drift", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("replaced  lib:functions/hello"));
    assert_eq!(db.value("SELECT hello('me')"), Some("hello me".to_owned()));
    assert_eq!(
        db.value(
            "SELECT script_hash FROM pgpm_migrate.changes WHERE change_name = 'functions/hello'"
        ),
        Some(sha256_hex(hello_v3.as_bytes()))
    );
    // The registry reads as if the new release had been deployed: no drift,
    // the dependent's requirement intact.
    jobsctl_on(&db)
        .args(["status", "--exit-code", "--strict", "-w"])
        .arg(ws.path())
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["verify", "-w"])
        .arg(ws.path())
        .assert()
        .success();
}

#[test]
fn drift_replace_in_jobsctl_toml_replaces_that_package_only() {
    let (db, ws) = app_on_lib_v1("replace_policy");
    installed_lib(&ws, HELLO_V2, "SELECT hello();\n");
    ws.write("jobsctl.toml", "[packages.lib]\ndrift = \"replace\"\n");
    deploy(&db, &ws)
        .success()
        .stdout(predicate::str::contains("replaced  lib:functions/hello"));
    assert_eq!(
        db.value(
            "SELECT script_hash FROM pgpm_migrate.changes WHERE change_name = 'functions/hello'"
        ),
        Some(sha256_hex(HELLO_V2.as_bytes()))
    );
}
