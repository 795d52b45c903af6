//! The terminal experience: completions and the man page from the clap
//! definitions, `--quiet`, `-v` tracing logs (never a password), and what
//! goes to stdout and stderr.

mod common;

use clap::CommandFactory;
use common::pg::{TestDb, server};
use common::{TempWorkspace, jobsctl, jobsctl_on, json_stdout};
use jobsctl::cli::Cli;
use predicates::prelude::*;

fn three_changes() -> TempWorkspace {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"])
        .change("app", "a", "CREATE TABLE a (id int);")
        .change("app", "b [a]", "CREATE TABLE b (id int);")
        .change(
            "app",
            "c [b]",
            "DO $$ BEGIN RAISE NOTICE 'hello from c'; END $$;",
        );
    ws
}

fn stdout_of(args: &[&str]) -> String {
    let output = jobsctl().args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {script}");
        for word in ["deploy", "lock-timeout", "data-dir"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    jobsctl().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_mentions_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
    assert!(page.contains(".TH jobsctl 1"), "{}", &page[..200]);
    // Hidden commands (lock-report, until it becomes `lint --locks`) are not listed.
    for sub in Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
    {
        assert!(
            page.contains(sub.get_name()),
            "the man page does not mention `{}`",
            sub.get_name()
        );
    }
    let deploy = stdout_of(&["man", "deploy"]);
    assert!(deploy.contains(".TH jobsctl-deploy 1"), "{deploy}");
    assert!(deploy.contains("lock\\-timeout"), "{deploy}");
    let dev_start = stdout_of(&["man", "dev", "start"]);
    assert!(dev_start.contains(".TH jobsctl-dev-start 1"), "{dev_start}");
    jobsctl().args(["man", "nope"]).assert().code(2);

    let dir = tempfile::tempdir().unwrap();
    jobsctl()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .assert()
        .success();
    for page in ["jobsctl.1", "jobsctl-deploy.1", "jobsctl-dev-start.1"] {
        assert!(dir.path().join(page).is_file(), "{page} not written");
    }
}

#[test]
fn quiet_prints_only_the_result() {
    let db = TestDb::not_created("quiet");
    let output = jobsctl_on(&db)
        .args(["deploy", "--createdb", "-q", "--workspace"])
        .arg(three_changes().path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("deployed 3 changes in "), "{stdout}");
    // No "created database", no server notice.
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Errors still show.
    jobsctl_on(&db)
        .args(["verify", "-q", "--to", "nope", "--workspace"])
        .arg(three_changes().path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error:"));
    jobsctl().args(["plan", "-q", "-v"]).assert().code(2);
}

#[test]
fn without_quiet_every_change_has_its_line_and_notices_show() {
    let db = TestDb::not_created("loud");
    jobsctl_on(&db)
        .args(["deploy", "--createdb", "--workspace"])
        .arg(three_changes().path())
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^ +deployed  app:a  \d+ ms$").unwrap())
        .stdout(predicate::str::contains("deployed  app:c"))
        .stderr(predicate::str::contains("created database"))
        .stderr(predicate::str::contains("NOTICE: hello from c"))
        // Progress is for terminals only.
        .stderr(predicate::str::contains("deploy postgres@").not());
}

#[test]
fn progress_shows_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        return; // util-linux's `script` gives the command a terminal
    }
    let db = TestDb::new("tty");
    let ws = three_changes();
    let bin = assert_cmd::cargo::cargo_bin("jobsctl");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec"])
        .arg(format!(
            "{} deploy --workspace {} 2>&1 >/dev/null",
            bin.display(),
            ws.path().display()
        ))
        .arg("/dev/null")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .envs(db.env());
    let output = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("deploy {}@", server().user)),
        "{text}"
    );
}

/// A role with a password on the test database, and a URL over TCP
/// (scram) that carries it.
fn password_url(db: &TestDb, password: &str) -> String {
    let role = format!("{}_pw", db.name);
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'; GRANT ALL ON DATABASE \"{0}\" TO \"{role}\"; GRANT ALL ON SCHEMA public TO \"{role}\";",
            db.name
        ))
        .unwrap();
    format!(
        "postgres://{role}:{password}@127.0.0.1:{}/{}?sslmode=disable",
        server().port,
        db.name
    )
}

#[test]
fn verbose_logs_on_stderr_and_never_the_password() {
    let db = TestDb::new("verbose");
    let url = password_url(&db, "Sup3rSecretPw");
    let ws = three_changes();
    let output = jobsctl()
        .args(["deploy", "-v", "-d", &url, "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "INFO",
        "connection",
        "source=--database-url",
        "taking the deploy lock",
        "registry migrations applied",
        "deploy lock released",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in:\n{stderr}");
    }
    assert!(!stdout.contains("INFO"), "logs on stdout:\n{stdout}");
    // -vv adds each statement batch sent to the server.
    let output = jobsctl()
        .args(["status", "-vv", "-d", &url, "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let debug = String::from_utf8_lossy(&output.stderr);
    assert!(debug.contains("DEBUG"), "{debug}");
    // RUST_LOG replaces -v's choice.
    let output = jobsctl()
        .env("RUST_LOG", "tokio_postgres=debug")
        .args(["deploy", "-d", &url, "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    let logged = String::from_utf8_lossy(&output.stderr);
    assert!(
        logged.contains("executing statement batch") || logged.contains("executing statement"),
        "{logged}"
    );
    for text in [&stderr, &stdout, &debug, &logged] {
        assert!(
            !text.contains("Sup3rSecretPw"),
            "the password leaked:\n{text}"
        );
    }
    // Without -v there are no logs.
    let output = jobsctl()
        .args(["status", "-d", &url, "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("INFO"));
}

#[test]
fn json_stays_one_document_with_verbose_logs() {
    let db = TestDb::new("json_verbose");
    let ws = three_changes();
    let output = jobsctl_on(&db)
        .args(["deploy", "-vv", "--format", "json", "--workspace"])
        .arg(ws.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = json_stdout(&output);
    assert_eq!(report["changes"].as_array().unwrap().len(), 3);
    assert!(String::from_utf8_lossy(&output.stderr).contains("DEBUG"));
    // A failure too: one error document.
    let output = jobsctl_on(&db)
        .args([
            "deploy",
            "-v",
            "--format",
            "json",
            "--to",
            "nope",
            "--workspace",
        ])
        .arg(ws.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json_stdout(&output)["error"]["kind"], "usage");
}

#[test]
fn help_lists_the_new_commands_and_flags() {
    let help = stdout_of(&["--help"]);
    for word in [
        "dev",
        "completions",
        "man",
        "--quiet",
        "--verbose",
        "--config",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    let deploy = stdout_of(&["deploy", "--help"]);
    for word in ["--target", "JOBSCTL_LOCK_TIMEOUT", "JOBSCTL_TX"] {
        assert!(
            deploy.contains(word),
            "deploy --help lacks {word}:\n{deploy}"
        );
    }
}

/// `jobsctl plan | head -5`: a reader that goes away ends jobsctl
/// quietly, with exit 0, as ripgrep does, instead of an error about the
/// broken pipe.
#[test]
fn a_closed_stdout_ends_quietly() {
    for format in ["human", "json"] {
        // assert_cmd cannot spawn: the same program and environment, by hand.
        let template = jobsctl();
        let mut command = std::process::Command::new(template.get_program());
        for (key, value) in template.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut child = command
            .args(["plan", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before jobsctl has written its first line.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("Broken pipe"), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
    }
}
