//! jobsctl.toml: targets, `${VAR}` expansion, errors naming the line, and
//! the precedence flags > environment > jobsctl.toml > built-in defaults.

mod common;

use common::pg::{TestDb, server};
use common::{TempWorkspace, jobsctl, json_stdout};
use predicates::prelude::*;

/// A workspace with one package `app`: `a` creates a table, `b` fails.
fn a_then_failing_b() -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"])
        .change("app", "a", "CREATE TABLE a (id int);")
        .change("app", "b [a]", "SELECT 1/0;");
    ws
}

/// A workspace with one package named `name` and one change.
fn workspace_named(name: &str) -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package(name, &["plpgsql"])
        .change(name, "one", "SELECT 1;");
    ws
}

fn tables(db: &TestDb) -> i64 {
    db.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .unwrap()
        .parse()
        .unwrap()
}

/// libpq settings of a target pointing at `db` (socket or host of the test server).
fn target_settings(db: &TestDb) -> String {
    let s = server();
    format!(
        "host = \"{}\"\nport = {}\nuser = \"{}\"\ndbname = \"{}\"\n",
        s.host, s.port, s.user, db.name
    )
}

#[test]
fn a_target_of_libpq_settings() {
    let db = TestDb::new("cfg_settings");
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        format!("[targets.test]\n{}", target_settings(&db)),
    );
    // Found in the workspace folder (-w), run from elsewhere.
    jobsctl()
        .args(["deploy", "--target", "test", "-w"])
        .arg(ws.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("deployed 1 change"));
    assert_eq!(
        db.value("SELECT count(*) FROM pgpm_migrate.changes"),
        Some("1".into())
    );
}

#[test]
fn a_url_target_with_variables_and_a_password_that_never_shows() {
    let db = TestDb::new("cfg_url");
    let role = format!("{}_app", db.name);
    let password = "pa:ss@w/rd %41";
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'; GRANT ALL ON DATABASE \"{0}\" TO \"{role}\"; GRANT ALL ON SCHEMA public TO \"{role}\";",
            db.name
        ))
        .unwrap();
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        "[targets.staging]\n\
         url = \"postgres://${APP_USER}@127.0.0.1:${APP_PORT}/${APP_DB}\"\n\
         password = \"${APP_PASSWORD}\"\n\
         sslmode = \"disable\"\n",
    );
    let output = jobsctl()
        .current_dir(ws.path())
        .env("APP_USER", &role)
        .env("APP_PORT", server().port.to_string())
        .env("APP_DB", &db.name)
        .env("APP_PASSWORD", password)
        .args(["deploy", "-vv", "--target", "staging", "-w", "."])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{all}");
    assert!(all.contains("--target staging (jobsctl.toml:2)"), "{all}");
    assert!(!all.contains("pa:ss"), "the password leaked: {all}");
    assert!(
        !all.contains("pa%3Ass"),
        "the encoded password leaked: {all}"
    );
    assert_eq!(
        db.value("SELECT count(*) FROM pgpm_migrate.changes"),
        Some("1".into())
    );
}

#[test]
fn a_missing_variable_is_an_error_naming_it_and_the_line() {
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        "# staging\n[targets.staging]\nurl = \"postgres://app:${APP_PASSWORD}@db/app\"\n\n[targets.other]\nhost = \"${NOT_USED_HERE}\"\n",
    );
    jobsctl()
        .current_dir(ws.path())
        .env_remove("APP_PASSWORD")
        .args(["status", "--target", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobsctl.toml:3: targets.staging.url: environment variable APP_PASSWORD is not set",
        ));
    // A target that is not used does not need its variables.
    jobsctl()
        .current_dir(ws.path())
        .args(["plan"])
        .assert()
        .success();
}

#[test]
fn an_unknown_key_is_an_error_naming_the_line() {
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        "[defaults]\ntx = \"package\"\nlock_timout = 30\n",
    );
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobsctl.toml:3: unknown field `lock_timout`",
        ));
    ws.write(
        "jobsctl.toml",
        "[targets.x]\nhost = \"h\"\nhots = \"typo\"\n",
    );
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobsctl.toml:3: targets.x: unknown key `hots`",
        ));
    ws.write("jobsctl.toml", "[defaults]\n\ntx = \"sometimes\"\n");
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobsctl.toml:3: unknown variant `sometimes`",
        ));
    ws.write("jobsctl.toml", "[[unknown]]\n");
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobsctl.toml:1: unknown field `unknown`",
        ));
}

#[test]
fn a_malformed_file_is_an_error_naming_the_line() {
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        "[defaults]\nworkspace = \"x\"\n\n[targets.a\nurl = \"y\"\n",
    );
    jobsctl()
        .current_dir(ws.path())
        .args(["plan", "--format", "json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("jobsctl.toml:4: "))
        .stdout(predicate::str::contains("\"kind\": \"config\""));
    ws.write("jobsctl.toml", "[defaults]\nlock_timeout = \"soon\"\n");
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("jobsctl.toml:2: "));
}

#[test]
fn an_explicit_config_file_must_exist_and_wins() {
    let ws = workspace_named("from_workspace_config");
    let other = workspace_named("from_explicit_config");
    ws.write("jobsctl.toml", "[defaults]\nworkspace = \".\"\n");
    other.write("elsewhere.toml", "[defaults]\nworkspace = \".\"\n");
    jobsctl()
        .current_dir(ws.path())
        .arg("plan")
        .assert()
        .success()
        .stdout(predicate::str::contains("from_workspace_config"));
    jobsctl()
        .current_dir(ws.path())
        .arg("--config")
        .arg(other.path().join("elsewhere.toml"))
        .arg("plan")
        .assert()
        .success()
        .stdout(predicate::str::contains("from_explicit_config"));
    jobsctl()
        .args(["plan", "--config", "/nonexistent/jobsctl.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/jobsctl.toml: no such file",
        ));
}

#[test]
fn workspace_precedence_flag_then_environment_then_config_then_embedded() {
    let project = TempWorkspace::new();
    let (config_ws, env_ws, flag_ws) = (
        workspace_named("from_config"),
        workspace_named("from_env"),
        workspace_named("from_flag"),
    );
    project.write(
        "jobsctl.toml",
        format!(
            "[defaults]\nworkspace = \"{}\"\n",
            config_ws.path().display()
        ),
    );
    let plan = |env: Option<&std::path::Path>, flag: Option<&std::path::Path>| {
        let mut cmd = jobsctl();
        cmd.current_dir(project.path())
            .args(["plan", "--format", "json"]);
        if let Some(env) = env {
            cmd.env("JOBSCTL_WORKSPACE", env);
        }
        if let Some(flag) = flag {
            cmd.arg("-w").arg(flag);
        }
        let plan = json_stdout(&cmd.output().unwrap());
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["step"] == "package")
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(plan(None, None), ["from_config"]);
    assert_eq!(plan(Some(env_ws.path()), None), ["from_env"]);
    assert_eq!(
        plan(Some(env_ws.path()), Some(flag_ws.path())),
        ["from_flag"]
    );
    // Relative to the file's folder, wherever jobsctl runs.
    project.write("jobsctl.toml", "[defaults]\nworkspace = \"db\"\n");
    project.write(
        "db/app.control",
        "comment = 'x'\ndefault_version = '0.0.1'\nrequires = ''\n",
    );
    project.write(
        "db/pgpm.plan",
        "%syntax-version=1.0.0\n%project=app\n%uri=app\n\n",
    );
    let json = json_stdout(
        &jobsctl()
            .arg("--config")
            .arg(project.path().join("jobsctl.toml"))
            .args(["plan", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(json["steps"][0]["name"], "app");
    // Without a file, the embedded workspace.
    jobsctl()
        .current_dir(flag_ws.path().join("packages"))
        .arg("plan")
        .assert()
        .success()
        .stdout(predicate::str::contains("pgpm-jobs"));
}

#[test]
fn lock_timeout_precedence_flag_then_environment_then_config() {
    let db = TestDb::new("cfg_lock");
    let mut holder = db.client();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&0x6A6F_6273_6374_6C00_i64])
        .unwrap();
    let ws = workspace_named("app");
    ws.write("jobsctl.toml", "[defaults]\nlock_timeout = 0.2\n");
    let gave_up_after = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = jobsctl();
        cmd.current_dir(ws.path())
            .envs(db.env())
            .args(["deploy", "-w", "."]);
        if let Some(env) = env {
            cmd.env("JOBSCTL_LOCK_TIMEOUT", env);
        }
        if let Some(flag) = flag {
            cmd.args(["--lock-timeout", flag]);
        }
        // Waiting shows even with -q: a stalled deploy says why.
        cmd.arg("-q");
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(stderr.contains("waiting for the deploy lock"), "{stderr}");
        let after = stderr
            .split("gave up waiting for the deploy lock after ")
            .nth(1)
            .unwrap_or_else(|| panic!("{stderr}"));
        after.split(' ').next().unwrap().parse::<f64>().unwrap()
    };
    let config = gave_up_after(None, None);
    assert!((0.2..0.6).contains(&config), "{config}");
    let env = gave_up_after(Some("0.7"), None);
    assert!((0.7..1.1).contains(&env), "{env}");
    let flag = gave_up_after(Some("0.7"), Some("1.2"));
    assert!((1.2..1.6).contains(&flag), "{flag}");
}

#[test]
fn tx_precedence_flag_then_environment_then_config_then_change() {
    let ws = a_then_failing_b();
    // After the failing `b`: with one transaction per change `a` stays, with
    // one for the run it is rolled back.
    let tables_left = |config: Option<&str>, env: Option<&str>, flag: Option<&str>| {
        let db = TestDb::new("cfg_tx");
        match config {
            Some(tx) => ws.write("jobsctl.toml", format!("[defaults]\ntx = \"{tx}\"\n")),
            None => ws.remove("jobsctl.toml"),
        };
        let mut cmd = jobsctl();
        cmd.current_dir(ws.path())
            .envs(db.env())
            .args(["deploy", "-w", "."]);
        if let Some(env) = env {
            cmd.env("JOBSCTL_TX", env);
        }
        if let Some(flag) = flag {
            cmd.args(["--tx", flag]);
        }
        cmd.assert().code(1);
        tables(&db)
    };
    assert_eq!(tables_left(Some("all"), None, None), 0);
    assert_eq!(tables_left(Some("all"), Some("change"), None), 1);
    assert_eq!(tables_left(Some("all"), Some("change"), Some("all")), 0);
    assert_eq!(tables_left(None, None, None), 1, "built-in default: change");
}

#[test]
fn connection_precedence_flag_then_target_then_environment_then_default_target() {
    let (flag, target, env, default) = (
        TestDb::new("cfg_flag"),
        TestDb::new("cfg_target"),
        TestDb::new("cfg_env"),
        TestDb::new("cfg_default"),
    );
    let ws = workspace_named("app");
    ws.write(
        "jobsctl.toml",
        format!(
            "[defaults]\ntarget = \"default\"\n\n[targets.default]\n{}\n[targets.named]\n{}",
            target_settings(&default),
            target_settings(&target)
        ),
    );
    let status = |args: &[&str], database_url: Option<&str>| {
        let mut cmd = jobsctl();
        cmd.current_dir(ws.path()).arg("status").args(args);
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let url = env.tcp_url();
    let on = |out: String, db: &TestDb| {
        let name = &db.name;
        assert!(
            out.contains(&format!("/{name} ")) || out.contains(&format!("/{name}\n")),
            "expected {name}: {out}"
        );
    };
    on(status(&["-d", &flag.tcp_url()], Some(&url)), &flag);
    on(status(&["--target", "named"], Some(&url)), &target);
    on(status(&[], Some(&url)), &env);
    on(status(&[], None), &default);
    // PGDATABASE counts as configured too (and beats the default target).
    let mut cmd = jobsctl();
    cmd.current_dir(ws.path()).envs(env.env()).arg("status");
    on(
        String::from_utf8(cmd.output().unwrap().stdout).unwrap(),
        &env,
    );
    // -d and --target together make no sense.
    jobsctl()
        .args(["status", "-d", "x", "--target", "y"])
        .assert()
        .code(2);
    // An unknown target names the known ones.
    jobsctl()
        .current_dir(ws.path())
        .args(["status", "--target", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no such target (known: default, named, dev)",
        ));
}
