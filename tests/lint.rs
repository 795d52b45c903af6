//! `jobsctl lint`, and its findings as warnings of `plan` and `deploy`:
//! squawk's rules over the pending deploy scripts, aware of the plan.

mod common;

use common::{TempWorkspace, jobsctl, jobsctl_on, json_stdout, pg::TestDb};
use predicates::prelude::*;
use serde_json::Value;

/// Each enabled rule, a deploy script that trips it and one that does
/// the same job safely. The tables are not created in the run, so they
/// count as existing (and busy) tables.
const RULES: &[(&str, &str, &str)] = &[
    (
        "require-concurrent-index-creation",
        "CREATE INDEX accounts_email_idx ON accounts (email);",
        "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);",
    ),
    (
        "require-concurrent-index-deletion",
        "DROP INDEX accounts_email_idx;",
        "DROP INDEX CONCURRENTLY accounts_email_idx;",
    ),
    (
        "require-concurrent-reindex",
        "REINDEX INDEX accounts_email_idx;",
        "REINDEX INDEX CONCURRENTLY accounts_email_idx;",
    ),
    (
        "require-concurrent-partition-detach",
        "ALTER TABLE events DETACH PARTITION events_2020;",
        "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;",
    ),
    (
        "constraint-missing-not-valid",
        "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0);",
        "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0) NOT VALID;",
    ),
    (
        "adding-foreign-key-constraint",
        "ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);",
        "ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;",
    ),
    (
        "adding-field-with-default",
        "ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE accounts ADD COLUMN active boolean DEFAULT true;",
    ),
    (
        "adding-not-nullable-field",
        "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;",
        "ALTER TABLE accounts ADD CONSTRAINT email_present CHECK (email IS NOT NULL) NOT VALID;",
    ),
    (
        "adding-required-field",
        "ALTER TABLE accounts ADD COLUMN tier int NOT NULL;",
        "ALTER TABLE accounts ADD COLUMN tier int NOT NULL DEFAULT 0;",
    ),
    (
        "adding-serial-primary-key-field",
        "ALTER TABLE accounts ADD PRIMARY KEY (id);",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;",
    ),
    (
        "changing-column-type",
        "ALTER TABLE accounts ALTER COLUMN balance TYPE numeric;",
        "ALTER TABLE accounts ALTER COLUMN balance SET DEFAULT 0;",
    ),
    (
        "disallowed-unique-constraint",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_idx;",
    ),
    (
        "ban-alter-domain-with-add-constraint",
        "ALTER DOMAIN positive_int ADD CONSTRAINT positive CHECK (VALUE > 0);",
        "ALTER DOMAIN positive_int SET DEFAULT 1;",
    ),
    (
        "ban-drop-column",
        "ALTER TABLE accounts DROP COLUMN legacy;",
        "ALTER TABLE accounts ADD COLUMN note text;",
    ),
    (
        "ban-drop-table",
        "DROP TABLE legacy;",
        "CREATE TABLE legacy_archive (id bigint);",
    ),
    (
        "renaming-column",
        "ALTER TABLE accounts RENAME COLUMN email TO mail;",
        "ALTER TABLE accounts ADD COLUMN mail text;",
    ),
    (
        "renaming-table",
        "ALTER TABLE accounts RENAME TO users;",
        "CREATE VIEW users AS SELECT * FROM accounts;",
    ),
];

/// `jobsctl lint --format json` of `ws` with `args`; the exit code and
/// the document.
fn lint_json(ws: &TempWorkspace, args: &[&str]) -> (i32, Value) {
    let output = jobsctl()
        .current_dir(ws.path())
        .args(["lint", "--format", "json", "--workspace"])
        .arg(ws.path())
        .args(args)
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    (code, json_stdout(&output))
}

/// The rule names of `document`'s findings in `change`.
fn rules_in(document: &Value, key: &str, change: &str) -> Vec<String> {
    document[key]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == change)
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

/// A package `app` whose first change creates table `accounts`.
fn app_with_accounts() -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change(
        "app",
        "accounts",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);",
    );
    ws
}

#[test]
fn every_enabled_rule_finds_its_unsafe_statement_and_not_the_safe_one() {
    let ws = TempWorkspace::new();
    ws.package("unsafe", &[]).package("safe", &[]);
    for (i, (_, unsafe_sql, safe_sql)) in RULES.iter().enumerate() {
        for (package, sql) in [("unsafe", unsafe_sql), ("safe", safe_sql)] {
            // Without BEGIN/COMMIT: a CONCURRENTLY statement may not have them.
            ws.change(package, &format!("r{i}"), sql).write(
                &format!("packages/{package}/deploy/r{i}.sql"),
                format!("-- Deploy {package}:r{i}\n{sql}\n"),
            );
        }
    }
    let (code, document) = lint_json(&ws, &[]);
    assert_eq!(
        code, 0,
        "findings are warnings without --strict: {document:#}"
    );
    let listed: Vec<&str> = RULES.iter().map(|(rule, _, _)| *rule).collect();
    let enabled: Vec<&str> = document["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(enabled, listed, "every enabled rule has a row in RULES");
    for (i, (rule, _, _)) in RULES.iter().enumerate() {
        let change = format!("r{i}");
        let found: Vec<String> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["change"] == change.as_str())
            .map(|f| {
                format!(
                    "{}:{}",
                    f["package"].as_str().unwrap(),
                    f["rule"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            found.contains(&format!("unsafe:{rule}")),
            "{rule} not found in its unsafe fixture: {found:?}"
        );
        assert!(
            !found.contains(&format!("safe:{rule}")),
            "{rule} found in its safe fixture: {found:?}"
        );
    }
}

#[test]
fn a_finding_reads_path_line_column_rule_message_with_help() {
    let ws = app_with_accounts();
    ws.change(
        "app",
        "accounts_email [accounts]",
        "CREATE INDEX accounts_email_idx ON other_table (email);",
    );
    jobsctl()
        .args(["lint", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains(
                "packages/app/deploy/accounts_email.sql:3:1: require-concurrent-index-creation: ",
            )
            .and(predicate::str::contains("help: Use `concurrently`"))
            .and(predicate::str::contains("fix: Add `concurrently`"))
            .and(predicate::str::contains(
                "Linted 2 pending changes: 0 errors, 1 warning",
            )),
        );
}

#[test]
fn an_index_on_a_table_created_by_an_earlier_pending_change_is_not_a_finding() {
    let ws = app_with_accounts();
    ws.change(
        "app",
        "accounts_email [accounts]",
        "CREATE INDEX accounts_email_idx ON accounts (email);",
    );
    let (code, document) = lint_json(&ws, &[]);
    assert_eq!(code, 0);
    assert_eq!(document["findings"], Value::Array(vec![]));
    assert_eq!(
        document["exempt"][0]["rule"],
        "require-concurrent-index-creation"
    );
    assert_eq!(document["exempt"][0]["table"], "accounts");
    assert_eq!(document["exempt"][0]["created_by"], "app:accounts");
}

#[test]
fn a_table_created_by_an_earlier_package_in_deploy_order_is_new_too() {
    let ws = TempWorkspace::new();
    ws.package("base", &[]).change(
        "base",
        "accounts",
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, email text);",
    );
    ws.package("app", &["base"]).change(
        "app",
        "accounts_email",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\nALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);",
    );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(document["findings"], Value::Array(vec![]), "{document:#}");
    assert_eq!(
        rules_in(&document, "exempt", "accounts_email"),
        [
            "constraint-missing-not-valid",
            "disallowed-unique-constraint",
            "changing-column-type"
        ]
    );
}

#[test]
fn a_change_to_a_table_created_earlier_in_the_same_script_is_not_a_finding() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change(
        "app",
        "accounts",
        "CREATE TABLE accounts (id bigint, email text);\nALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE accounts RENAME COLUMN email TO mail;",
    );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(document["findings"], Value::Array(vec![]), "{document:#}");
    assert_eq!(
        rules_in(&document, "exempt", "accounts"),
        ["adding-field-with-default", "renaming-column"]
    );
}

#[test]
fn the_same_index_is_a_finding_once_the_table_change_is_deployed() {
    let db = TestDb::new("lint_deployed");
    let ws = app_with_accounts();
    ws.change(
        "app",
        "accounts_email [accounts]",
        "CREATE INDEX accounts_email_idx ON accounts (email);",
    );
    jobsctl_on(&db)
        .args(["deploy", "--to", "accounts", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    let (code, document) = lint_json(&ws, &["-d", &db.tcp_url()]);
    assert_eq!(code, 0);
    assert_eq!(document["linted"], 1);
    assert_eq!(document["deployed"], 1);
    assert_eq!(
        rules_in(&document, "findings", "accounts_email"),
        ["require-concurrent-index-creation"]
    );
    assert_eq!(document["exempt"], Value::Array(vec![]));
}

#[test]
fn deploy_prints_findings_as_warnings_and_with_strict_stops_before_running_anything() {
    let db = TestDb::new("lint_deploy");
    let ws = app_with_accounts();
    jobsctl_on(&db)
        .args(["deploy", "--workspace"])
        .arg(ws.path())
        .assert()
        .success();
    ws.change(
        "app",
        "accounts_email [accounts]",
        "CREATE INDEX accounts_email_idx ON accounts (email);",
    );
    jobsctl_on(&db)
        .args(["deploy", "--strict", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("error: ").and(predicate::str::contains(
                "packages/app/deploy/accounts_email.sql:3:1: require-concurrent-index-creation:",
            )),
        );
    assert_eq!(
        db.column("SELECT change_name FROM pgpm_migrate.changes"),
        [Some("accounts".to_owned())],
        "nothing ran"
    );
    let output = jobsctl_on(&db)
        .args(["deploy", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let document = json_stdout(&output);
    let warnings = document["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["kind"], "lint");
    assert_eq!(warnings[0]["rule"], "require-concurrent-index-creation");
    assert_eq!(warnings[0]["line"], 3);
}

#[test]
fn plan_prints_findings_as_warnings_and_fails_with_strict() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "drop_legacy", "DROP TABLE legacy;");
    let output = jobsctl()
        .args(["plan", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let document = json_stdout(&output);
    assert_eq!(document["warnings"][0]["kind"], "lint");
    assert_eq!(document["warnings"][0]["rule"], "ban-drop-table");
    jobsctl()
        .args(["plan", "--strict", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("ban-drop-table"));
}

#[test]
fn a_constraint_validated_in_the_transaction_that_added_it_is_a_finding_but_not_without_one() {
    let sql = "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0) NOT VALID;\nALTER TABLE accounts VALIDATE CONSTRAINT positive;";
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "in_transaction", sql)
        .change("app", "no_transaction", sql)
        .write(
            "packages/app/deploy/no_transaction.sql",
            format!("-- jobsctl:no-transaction\n{sql}\n"),
        );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(
        rules_in(&document, "findings", "in_transaction"),
        ["constraint-missing-not-valid"]
    );
    assert_eq!(
        rules_in(&document, "findings", "no_transaction"),
        Vec::<String>::new()
    );
}

#[test]
fn a_directive_silences_the_next_statement_only() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change(
        "app",
        "columns",
        "-- jobsctl:lint-ignore changing-column-type: accounts has 40 rows\nALTER TABLE accounts ALTER COLUMN balance TYPE numeric;\nALTER TABLE orders ALTER COLUMN total TYPE numeric;",
    );
    let (code, document) = lint_json(&ws, &[]);
    assert_eq!(code, 0);
    assert_eq!(document["findings"].as_array().unwrap().len(), 1);
    assert_eq!(document["findings"][0]["line"], 5);
    assert_eq!(document["silenced"][0]["line"], 4);
    assert_eq!(document["silenced"][0]["by"], "directive");
    assert_eq!(document["silenced"][0]["reason"], "accounts has 40 rows");
}

#[test]
fn a_directive_in_the_header_silences_the_whole_script() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "columns", "SELECT 1;")
        .write(
            "packages/app/deploy/columns.sql",
            "-- Deploy app:columns\n-- jobsctl:lint-ignore changing-column-type: both tables are empty lookup tables\nBEGIN;\nALTER TABLE accounts ALTER COLUMN balance TYPE numeric;\nALTER TABLE orders ALTER COLUMN total TYPE numeric;\nCOMMIT;\n",
        );
    let (code, document) = lint_json(&ws, &["--strict"]);
    assert_eq!(code, 0, "{document:#}");
    assert_eq!(document["findings"], Value::Array(vec![]));
    assert_eq!(document["silenced"].as_array().unwrap().len(), 2);
}

#[test]
fn a_directive_without_a_reason_is_a_finding_and_silences_nothing() {
    let ws = TempWorkspace::new();
    ws.package("app", &[]).change(
        "app",
        "columns",
        "-- jobsctl:lint-ignore changing-column-type\nALTER TABLE accounts ALTER COLUMN balance TYPE numeric;",
    );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(
        rules_in(&document, "findings", "columns"),
        ["lint-directive", "changing-column-type"]
    );
    assert!(
        document["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("needs a reason")
    );
}

#[test]
fn package_settings_ignore_a_rule_for_that_package_only() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "drop_legacy", "DROP TABLE legacy;")
        .package("other", &[])
        .change("other", "drop_old", "DROP TABLE old;")
        .write(
            "jobsctl.toml",
            "[packages.app]\nlint = { ignore = [\"ban-drop-table\"] }\n",
        );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(
        rules_in(&document, "findings", "drop_legacy"),
        Vec::<String>::new()
    );
    assert_eq!(
        rules_in(&document, "findings", "drop_old"),
        ["ban-drop-table"]
    );
}

#[test]
fn package_settings_allow_one_rule_in_one_change_with_its_reason() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "drop_legacy", "DROP TABLE legacy;")
        .change("app", "drop_old", "DROP TABLE old;")
        .write(
            "jobsctl.toml",
            "[[packages.app.lint.allow]]\nchange = \"drop_legacy\"\nrule = \"ban-drop-table\"\nreason = \"legacy has been unused since 2024\"\n",
        );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(
        rules_in(&document, "findings", "drop_legacy"),
        Vec::<String>::new()
    );
    assert_eq!(
        rules_in(&document, "findings", "drop_old"),
        ["ban-drop-table"]
    );
    assert_eq!(document["silenced"][0]["by"], "jobsctl.toml");
    assert_eq!(
        document["silenced"][0]["reason"],
        "legacy has been unused since 2024"
    );
}

#[test]
fn lint_settings_enable_and_ignore_rules_for_every_package() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change(
            "app",
            "events",
            "DROP TABLE legacy;\nALTER TABLE events ADD COLUMN at timestamp;",
        )
        .write(
            "jobsctl.toml",
            "[lint]\nenable = [\"prefer-timestamptz\"]\nignore = [\"ban-drop-table\"]\n",
        );
    let (_, document) = lint_json(&ws, &[]);
    assert_eq!(
        rules_in(&document, "findings", "events"),
        ["prefer-timestamp-tz"]
    );
}

#[test]
fn an_unknown_rule_in_jobsctl_toml_is_a_configuration_error() {
    let ws = app_with_accounts();
    ws.write("jobsctl.toml", "[lint]\nignore = [\"no-such-rule\"]\n");
    jobsctl()
        .args(["lint", "--workspace"])
        .arg(ws.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "lint.ignore: no rule `no-such-rule`",
        ));
}

#[test]
fn strict_from_the_flag_the_environment_or_jobsctl_toml_makes_findings_exit_1() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "drop_legacy", "DROP TABLE legacy;");
    let lint = || {
        let mut cmd = jobsctl();
        cmd.args(["lint", "--workspace"]).arg(ws.path());
        cmd
    };
    lint().assert().code(0);
    lint().arg("--strict").assert().code(1);
    lint().env("JOBSCTL_STRICT", "1").assert().code(1);
    ws.write("jobsctl.toml", "[defaults]\nstrict = true\n");
    lint().assert().code(1);
}

#[test]
fn a_clean_workspace_exits_0_even_with_strict() {
    let ws = app_with_accounts();
    let (code, document) = lint_json(&ws, &["--strict"]);
    assert_eq!(code, 0);
    assert_eq!(document["linted"], 1);
    assert_eq!(document["errors"], 0);
}

#[test]
fn json_output_is_one_document_with_findings_silenced_and_exempt() {
    let ws = TempWorkspace::new();
    ws.package("app", &[])
        .change("app", "drop_legacy", "DROP TABLE legacy;");
    let output = jobsctl()
        .args(["lint", "--strict", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let document = json_stdout(&output);
    assert_eq!(document["strict"], true);
    assert_eq!(document["errors"], 1);
    assert_eq!(document["database"], Value::Null);
    let finding = &document["findings"][0];
    for key in [
        "package", "change", "path", "line", "column", "rule", "severity", "message",
    ] {
        assert!(!finding[key].is_null(), "finding has {key}: {finding:#}");
    }
    assert!(document["silenced"].is_array() && document["exempt"].is_array());
}

#[test]
fn revert_scripts_are_not_linted() {
    let ws = app_with_accounts();
    ws.write(
        "packages/app/revert/accounts.sql",
        "-- Revert app:accounts\nDROP TABLE accounts;\n",
    );
    let (_, document) = lint_json(&ws, &["--strict"]);
    assert_eq!(document["findings"], Value::Array(vec![]));
}

#[test]
fn the_embedded_workspace_lints_clean_with_strict() {
    let output = jobsctl()
        .args(["lint", "--strict", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let document = json_stdout(&output);
    assert_eq!(document["findings"], Value::Array(vec![]), "{document:#}");
    assert!(document["linted"].as_u64().unwrap() > 90);
}

#[test]
fn a_released_embedded_index_on_a_deployed_table_is_silenced_by_jobsctl_with_its_reason() {
    let db = TestDb::new("lint_embedded");
    jobsctl_on(&db)
        .args(["deploy", "--to", "pgpm-jobs:@0.5.0"])
        .assert()
        .success();
    let output = jobsctl()
        .args(["lint", "--strict", "--format", "json", "-d", &db.tcp_url()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let document = json_stdout(&output);
    assert_eq!(document["findings"], Value::Array(vec![]), "{document:#}");
    let silenced = &document["silenced"][0];
    assert_eq!(
        silenced["change"],
        "schemas/app_jobs/tables/job_queues/indexes/job_queues_claimable_idx"
    );
    assert_eq!(silenced["by"], "jobsctl");
    assert!(silenced["reason"].as_str().unwrap().contains("@0.6.0"));
}
