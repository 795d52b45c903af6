//! `jobsctl jobs` (stats, list, show, retry, cancel, purge, pause, resume)
//! with the real binary against a real PostgreSQL: both output formats,
//! the confirmation rule off a terminal, and what each command changed in
//! the database.

mod common;

use common::jobsctl_on;
use common::pg::TestDb;
use common::queue::{TENANT, deployed};
use predicates::prelude::*;
use serde_json::Value;

/// Jobs in every state: without a queue 2 ready, 1 scheduled, 1 running,
/// 1 retrying, 2 failed (one failed 40 days ago); in queue `mq` 1 ready
/// (`mail`); in queue `held` 2 paused (`sms`). Returns the database.
fn with_jobs(label: &str) -> TestDb {
    let db = deployed(label);
    let mut c = db.client();
    c.batch_execute(&format!(
        "SET app_jobs.notify = 'off';
         SELECT app_jobs.add_job('{TENANT}', 'mail', '{{\"to\": \"a\"}}', priority := 5) FROM generate_series(1, 2);
         SELECT app_jobs.add_job('{TENANT}', 'mail', run_at := now() + interval '1 day');
         SELECT app_jobs.add_job('{TENANT}', 'mail', priority := -3);
         SELECT app_jobs.get_job('runner');
         SELECT app_jobs.add_job('{TENANT}', 'mail', priority := -2);
         SELECT app_jobs.fail_job('w', (app_jobs.get_job('w')).id, 'smtp down');
         SELECT app_jobs.add_job('{TENANT}', 'mail', max_attempts := 1, priority := -1) FROM generate_series(1, 2);
         SELECT app_jobs.fail_job('w', (app_jobs.get_job('w')).id, 'bad address') FROM generate_series(1, 2);
         UPDATE app_jobs.jobs SET updated_at = now() - interval '40 days'
          WHERE id = (SELECT min(id) FROM app_jobs.jobs WHERE attempts >= max_attempts AND locked_at IS NULL);
         SELECT app_jobs.add_job('{TENANT}', 'mail', queue_name := 'mq', priority := 9);
         SELECT app_jobs.add_job('{TENANT}', 'sms', queue_name := 'held') FROM generate_series(1, 2);
         SELECT app_jobs.pause_queue('held');"
    ))
    .unwrap();
    db
}

fn json_of(cmd: &mut assert_cmd::Command) -> Value {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    common::json_stdout(&output)
}

fn count(db: &TestDb, sql: &str) -> i64 {
    common::count(db, sql)
}

#[test]
fn stats_counts_every_state_in_both_formats() {
    let db = with_jobs("jobs_stats");
    let report = json_of(jobsctl_on(&db).args(["jobs", "stats", "--format", "json"]));
    let totals = &report["totals"];
    for (state, n) in [
        ("ready", 3),
        ("scheduled", 1),
        ("running", 1),
        ("retrying", 1),
        ("failed", 2),
        ("paused", 2),
    ] {
        assert_eq!(totals[state], n, "{state}: {report}");
    }
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{report}");
    let held = rows.iter().find(|r| r["queue_name"] == "held").unwrap();
    assert_eq!(held["task_identifier"], "sms");
    assert_eq!(held["paused"], 2);
    assert_eq!(report["paused_queues"][0]["queue_name"], "held");
    assert_eq!(report["paused_queues"][0]["job_count"], 2);

    let other_tenant = json_of(jobsctl_on(&db).args([
        "jobs",
        "stats",
        "--database-id",
        "0e0e5c1b-8a7c-4c61-9d0c-2d3b1f0c9a11",
        "--format",
        "json",
    ]));
    assert_eq!(other_tenant["rows"].as_array().unwrap().len(), 0);

    // human: the header, one aligned line per task and queue, the totals,
    // the paused queues
    let out = jobsctl_on(&db).args(["jobs", "stats"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("TASK"), "{text}");
    assert!(
        lines[0].contains("READY") && lines[0].contains("LONGEST RUNNING"),
        "{text}"
    );
    let header_ready_end = lines[0].find("READY").unwrap() + "READY".len();
    let mail = lines
        .iter()
        .find(|l| l.starts_with("mail") && l.contains(" - "))
        .unwrap();
    assert_eq!(
        &mail[header_ready_end - 1..header_ready_end],
        "2",
        "ready counts right-aligned under READY:\n{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("(total)")), "{text}");
    assert!(text.contains("paused queues: held (since "), "{text}");
}

#[test]
fn list_filters_and_show_in_both_formats() {
    let db = with_jobs("jobs_list");
    let failed =
        json_of(jobsctl_on(&db).args(["jobs", "list", "--state", "failed", "--format", "json"]));
    let jobs = failed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{failed}");
    assert!(
        jobs.iter()
            .all(|j| j["state"] == "failed" && j["last_error"] == "bad address")
    );

    let paused = json_of(jobsctl_on(&db).args([
        "jobs",
        "list",
        "--queue",
        "held",
        "--task",
        "sms",
        "--database-id",
        TENANT,
        "--limit",
        "1",
        "--format",
        "json",
    ]));
    assert_eq!(paused["jobs"].as_array().unwrap().len(), 1, "--limit 1");
    assert_eq!(paused["jobs"][0]["state"], "paused");

    jobsctl_on(&db)
        .args(["jobs", "list", "--state", "running"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ID  STATE"))
        .stdout(predicate::str::contains("running  mail"));

    let running = count(
        &db,
        "SELECT id FROM app_jobs.jobs WHERE locked_at IS NOT NULL",
    );
    let shown =
        json_of(jobsctl_on(&db).args(["jobs", "show", &running.to_string(), "--format", "json"]));
    assert_eq!(shown["job"]["id"], running);
    assert_eq!(shown["job"]["locked_by"], "runner");
    assert!(
        shown["job"]["lock_age_seconds"].as_f64().is_some(),
        "{shown}"
    );

    let retrying = count(
        &db,
        "SELECT id FROM app_jobs.jobs WHERE last_error = 'smtp down'",
    );
    jobsctl_on(&db)
        .args(["jobs", "show", &retrying.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains("state        retrying"))
        .stdout(predicate::str::contains("attempts     1 of 25"))
        .stdout(predicate::str::contains("last error   smtp down"));
    jobsctl_on(&db)
        .args(["jobs", "show", "999999"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no job 999999"));
}

#[test]
fn retry_cancel_and_purge_ask_off_a_terminal_and_report_the_rows_they_touched() {
    let db = with_jobs("jobs_mutate");
    let failed =
        "SELECT count(*) FROM app_jobs.jobs WHERE attempts >= max_attempts AND locked_at IS NULL";

    // without -y and no terminal: refused, nothing changed
    jobsctl_on(&db)
        .args(["jobs", "retry"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "refusing to retry 2 permanently failed jobs",
        ))
        .stderr(predicate::str::contains("pass -y"));
    assert_eq!(count(&db, failed), 2);

    // purge: only the one that failed 40 days ago
    let purged = json_of(jobsctl_on(&db).args([
        "jobs",
        "purge",
        "--older-than",
        "30d",
        "-y",
        "--format",
        "json",
    ]));
    assert_eq!(purged["action"], "purge");
    assert_eq!(purged["count"], 1, "{purged}");
    assert_eq!(purged["jobs"][0]["state"], "deleted");
    assert_eq!(count(&db, failed), 1);

    // retry with a filter, human format
    jobsctl_on(&db)
        .args(["jobs", "retry", "--task", "mail", "-y"])
        .assert()
        .success()
        .stdout(predicate::str::contains("retried 1 job in"))
        .stdout(predicate::str::contains("ready"));
    assert_eq!(count(&db, failed), 0);
    jobsctl_on(&db)
        .args(["jobs", "retry", "-y"])
        .assert()
        .success()
        .stdout(predicate::str::contains("retried 0 jobs"));

    // cancel: never without a scope; never the running job
    jobsctl_on(&db)
        .args(["jobs", "cancel", "-y"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs job ids"));
    let running = count(
        &db,
        "SELECT id FROM app_jobs.jobs WHERE locked_at IS NOT NULL",
    );
    let none = json_of(jobsctl_on(&db).args([
        "jobs",
        "cancel",
        &running.to_string(),
        "-y",
        "--format",
        "json",
    ]));
    assert_eq!(none["count"], 0);
    let cancelled = json_of(jobsctl_on(&db).args([
        "jobs", "cancel", "--queue", "held", "-y", "--format", "json",
    ]));
    assert_eq!(cancelled["count"], 2, "{cancelled}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM app_jobs.jobs WHERE queue_name = 'held'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT job_count::bigint FROM app_jobs.job_queues WHERE queue_name = 'held' AND paused_at IS NOT NULL"
        ),
        0,
        "the paused queue keeps its row, counted exactly"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM app_jobs.jobs WHERE locked_at IS NOT NULL"
        ),
        1
    );

    // values from flags are data; a bad one is a usage error
    jobsctl_on(&db)
        .args([
            "jobs",
            "cancel",
            "--task",
            "x'); DROP TABLE app_jobs.jobs; --",
            "-y",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("cancelled 0 jobs"));
    jobsctl_on(&db)
        .args(["jobs", "purge", "--older-than", "soon", "-y"])
        .assert()
        .code(2);
    jobsctl_on(&db)
        .args(["jobs", "list", "--database-id", "tenant-1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a uuid"));
}

#[test]
fn pause_and_resume_a_queue_in_both_formats() {
    let db = with_jobs("jobs_pause");
    jobsctl_on(&db)
        .args(["jobs", "pause", "mq"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("refusing to pause queue mq"));
    let paused = json_of(jobsctl_on(&db).args(["jobs", "pause", "mq", "-y", "--format", "json"]));
    assert_eq!(paused["action"], "pause");
    assert_eq!(paused["queue"]["queue_name"], "mq");
    assert_eq!(paused["queue"]["job_count"], 1);
    assert!(paused["queue"]["paused_at"].is_string(), "{paused}");
    // no worker claims from mq or held now: only the queue-less jobs
    let mut c = db.client();
    let claimed: Vec<Option<String>> = c
        .query(
            "SELECT queue_name FROM app_jobs.get_jobs('w9', batch_size := 100)",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(claimed.iter().all(Option::is_none), "{claimed:?}");
    c.batch_execute("SELECT app_jobs.release_jobs('w9')")
        .unwrap();

    jobsctl_on(&db)
        .args(["jobs", "resume", "mq", "-y"])
        .assert()
        .success()
        .stdout(predicate::str::contains("resumed queue mq in"));
    let resumed =
        json_of(jobsctl_on(&db).args(["jobs", "resume", "held", "-y", "--format", "json"]));
    assert!(resumed["queue"]["paused_at"].is_null(), "{resumed}");
    let nothing =
        json_of(jobsctl_on(&db).args(["jobs", "resume", "nosuch", "-y", "--format", "json"]));
    assert!(nothing["queue"].is_null(), "{nothing}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM app_jobs.job_queues WHERE paused_at IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM app_jobs.get_jobs('w10', batch_size := 100) WHERE queue_name IS NOT NULL"
        ),
        2,
        "mq and held run again"
    );
}

#[test]
fn an_installation_older_than_0_6_0_gets_a_hint_to_deploy() {
    let db = TestDb::new("jobs_old");
    jobsctl_on(&db)
        .args(["deploy", "--to", "pgpm-jobs:@0.5.0"])
        .assert()
        .success();
    jobsctl_on(&db)
        .args(["jobs", "stats"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("jobsctl deploy"));
}

#[test]
fn watch_needs_a_terminal_and_help_describes_the_commands() {
    let db = deployed("jobs_watch");
    jobsctl_on(&db)
        .args(["jobs", "stats", "--watch", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("terminal"));
    let help = jobsctl_on(&db).args(["help", "jobs"]).output().unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for word in [
        "stats",
        "list",
        "show",
        "retry",
        "cancel",
        "purge",
        "pause",
        "resume",
        "-y (--yes)",
    ] {
        assert!(
            text.contains(word),
            "`jobsctl help jobs` lacks {word}:\n{text}"
        );
    }
}
