//! `jobsctl adopt` (issue 19) on databases where pgpm's own engine deployed
//! the published `@pgpm/database-jobs` 0.16.0 (tests/pgpm/node_modules),
//! filled with jobs in every state by the upstream functions: every row
//! kept by id and content, the upstream client's exact SQL still works
//! afterwards, jobsctl's status and verify and pgpm's engine agree; an
//! edited installation, a JSON-string schedule and a run killed while it
//! waits for the table locks leave everything as it was.

use crate::common::pg::TestDb;
use crate::compare::{registry, schema_dump};
use crate::driver::{ensure_installed, pgpm, pgpm_dir};
use crate::fixtures::Ws;
use crate::jobsctl;
use crate::npm::{default_roles, installed};

const T1: &str = "11111111-1111-1111-1111-111111111111";
const T2: &str = "22222222-2222-2222-2222-222222222222";

/// A database with @pgpm/database-jobs 0.16.0 deployed by pgpm's engine,
/// and the workspace it was deployed from (kept alive with it).
fn upstream(label: &str) -> (TestDb, Ws) {
    let (ws, module) =
        installed(&["@pgpm/database-jobs"]).expect("the server has pgcrypto and uuid-ossp");
    assert_eq!(module, "pgpm-database-jobs");
    // It grants to administrator without creating it.
    default_roles();
    let db = TestDb::new(label);
    let outcome = pgpm("deploy", ws.path(), Some(&module), &db);
    assert!(outcome.ok, "pgpm deploy: {}", outcome.describe());
    (db, ws)
}

/// Jobs in every state, made with the upstream functions only (as upstream
/// producers, workers and schedulers make them).
fn fill(db: &TestDb) {
    let mut c = db.client();
    let sql = format!(
        "SELECT app_jobs.add_job('{T1}', 'ready_task', '{{\"n\":1}}');
         SELECT app_jobs.add_job('{T1}', 'future_task', '{{\"n\":2}}', run_at := now() + interval '1 day');
         SELECT app_jobs.add_job('{T1}', 'keyed_task', '{{\"n\":3}}', job_key := 'k-1');
         SELECT app_jobs.add_job('{T2}', 'keyed_task', '{{\"n\":4}}', job_key := 'k-2', priority := 5);
         SELECT app_jobs.add_job('{T1}', 'queued_task', '{{\"q\":1}}', queue_name := 'q-mail');
         SELECT app_jobs.add_job('{T1}', 'queued_task', '{{\"q\":2}}', queue_name := 'q-mail');
         SELECT app_jobs.add_job('{T2}', 'queued_task', '{{\"q\":3}}', queue_name := 'q-other');
         SELECT app_jobs.add_job('{T1}', 'perm_task', '{{\"n\":5}}', max_attempts := 1, priority := -10);
         SELECT app_jobs.add_job('{T1}', 'retry_task', '{{\"n\":6}}', priority := -9);
         SELECT app_jobs.add_job('{T1}', 'sup_task', '{{\"v\":\"old\"}}', job_key := 'k-sup', priority := -8);
         INSERT INTO app_jobs.jobs (database_id, task_identifier, payload) VALUES ('{T2}', 'raw_insert_task', '{{}}');
         SELECT app_jobs.get_job('worker-perm', ARRAY['perm_task']);
         SELECT app_jobs.fail_job('worker-perm', (SELECT id FROM app_jobs.jobs WHERE task_identifier = 'perm_task'), 'boom perm');
         SELECT app_jobs.get_job('worker-retry', ARRAY['retry_task']);
         SELECT app_jobs.fail_job('worker-retry', (SELECT id FROM app_jobs.jobs WHERE task_identifier = 'retry_task'), 'boom retry');
         SELECT app_jobs.get_job('worker-up-1', ARRAY['sup_task']);
         SELECT app_jobs.add_job('{T1}', 'sup_task', '{{\"v\":\"new\"}}', job_key := 'k-sup', run_at := now() + interval '1 hour');
         SELECT app_jobs.get_job('worker-up-1', ARRAY['queued_task']);
         SELECT app_jobs.get_job('worker-up-2', ARRAY['ready_task']);
         SELECT app_jobs.add_scheduled_job('{T1}', 'sched_rule', '{{}}', '{{\"rule\": \"*/5 * * * *\", \"tz\": \"Europe/Paris\"}}');
         SELECT app_jobs.add_scheduled_job('{T1}', 'sched_rec', '{{}}', '{{\"hour\": [3], \"minute\": 0}}');
         SELECT app_jobs.add_scheduled_job('{T2}', 'sched_default', '{{}}');
         SELECT app_jobs.add_scheduled_job('{T2}', 'sched_keyed', '{{\"x\":1}}', '{{\"rule\": \"0 0 * * *\"}}', job_key := 'sk-1', queue_name := 'q-sched');
         SELECT app_jobs.get_scheduled_job('scheduler-0', ARRAY['sched_rule']);
         SELECT app_jobs.run_scheduled_job((SELECT id FROM app_jobs.scheduled_jobs WHERE task_identifier = 'sched_rule'));"
    );
    c.batch_execute(&sql).expect("fill with upstream functions");
}

/// Every row of the three tables as JSON, by id; our added columns left out.
fn rows(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    for (table, key, drop) in [
        ("jobs", "id", "'superseded'"),
        ("scheduled_jobs", "id", "'next_run_at' - 'last_slot'"),
        ("job_queues", "queue_name", "'paused_at'"),
    ] {
        let sql = format!(
            "SELECT '{table} ' || (to_jsonb(t) - {drop})::text FROM app_jobs.{table} t ORDER BY {key}"
        );
        out.extend(db.column(&sql).into_iter().map(Option::unwrap_or_default));
    }
    out
}

fn app_jobs_dump(db: &TestDb) -> Vec<String> {
    schema_dump(db, false)
}

fn adopt(db: &TestDb, extra: &[&str]) -> crate::Run {
    let mut args = vec!["adopt", "--allow-role-changes"];
    args.extend_from_slice(extra);
    jobsctl(db, &args)
}

#[test]
fn adopt_fingerprints_equal_the_npm_packages_deploy_scripts() {
    ensure_installed();
    for (file, npm_dir) in [
        ("pgpm-database-jobs@0.16.0.json", "@pgpm/database-jobs"),
        ("pgpm-verify@0.16.0.json", "old-pgpm-verify-0.16.0"),
    ] {
        let path = crate::common::repo_root()
            .join("src/adopt/fingerprints")
            .join(file);
        let fingerprint: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let package = pgpm_dir().join("node_modules").join(npm_dir);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(package.join("package.json")).unwrap()).unwrap();
        assert_eq!(manifest["version"], fingerprint["version"], "{file}");
        let plan = std::fs::read_to_string(package.join("pgpm.plan")).unwrap();
        let names: Vec<&str> = plan
            .lines()
            .filter(|l| {
                !l.trim().is_empty()
                    && !l.starts_with('%')
                    && !l.starts_with('@')
                    && !l.starts_with('#')
            })
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let changes = fingerprint["changes"].as_array().unwrap();
        assert_eq!(
            names,
            changes
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            "{file}: the plan's changes, in order"
        );
        for change in changes {
            let name = change["name"].as_str().unwrap();
            let bytes = std::fs::read(package.join("deploy").join(format!("{name}.sql"))).unwrap();
            assert_eq!(
                jobsctl::registry::sha256_hex(&bytes),
                change["script_hash"].as_str().unwrap(),
                "{file}: {name}"
            );
        }
    }
}

#[test]
fn adopt_database_jobs_keeps_every_job_and_upstream_clients_go_on() {
    let (db, _ws) = upstream("adopt_dbjobs");
    fill(&db);
    let before_rows = rows(&db);
    let before_registry = registry(&db);
    let before_dump = app_jobs_dump(&db);

    // The dry run changes nothing and names every step.
    let run = adopt(&db, &["--dry-run"]);
    assert!(run.ok, "{}", run.text);
    for expected in [
        "@pgpm/database-jobs 0.16.0",
        "ok      objects",
        "drop the upstream triggers",
        "CREATE FUNCTION sent as CREATE OR REPLACE (get_job)",
        "recorded only: replaced by the conversion",
        "recompute job_queues.job_count",
        "nothing was changed",
    ] {
        assert!(run.text.contains(expected), "{expected:?} in\n{}", run.text);
    }
    assert_eq!(rows(&db), before_rows);
    assert_eq!(registry(&db), before_registry);
    assert_eq!(app_jobs_dump(&db), before_dump);

    let run = adopt(&db, &["--format", "json"]);
    assert!(run.ok, "{}", run.text);
    assert!(
        run.text.contains("\"outcome\": \"adopted\""),
        "{}",
        run.text
    );

    // Every row by id and content; superseded is false everywhere.
    assert_eq!(rows(&db), before_rows);
    assert_eq!(
        db.value("SELECT count(*) FROM app_jobs.jobs WHERE superseded")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.column("SELECT queue_name || ' ' || job_count || ' ' || coalesce(locked_by, '-') FROM app_jobs.job_queues ORDER BY 1")
            .into_iter()
            .map(Option::unwrap_or_default)
            .filter(|q| q.starts_with("q-"))
            .collect::<Vec<_>>(),
        ["q-mail 2 worker-up-1", "q-other 1 -"]
    );
    // Ids go on after the old sequences.
    let max_id: i64 = db
        .value("SELECT max(id) FROM app_jobs.jobs")
        .unwrap()
        .parse()
        .unwrap();

    // jobsctl agrees: all deployed, verified, nothing left to adopt.
    for args in [vec!["status", "--exit-code"], vec!["verify"], vec!["adopt"]] {
        let run = jobsctl(&db, &args);
        assert!(run.ok, "{}", run.text);
    }
    assert!(jobsctl(&db, &["adopt"]).text.contains("nothing to adopt"));
    let after_registry = registry(&db);
    assert!(
        after_registry
            .iter()
            .all(|r| !r.starts_with("pgpm-database-jobs "))
    );
    assert_eq!(
        after_registry
            .iter()
            .filter(|r| r.starts_with("pgpm-jobs "))
            .count(),
        db.value("SELECT count(*) FROM pgpm_migrate.changes WHERE package = 'pgpm-jobs'")
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );

    // The upstream client's exact SQL (@constructive-io/job-utils 2.16.2),
    // positional and untyped as it sends it.
    let mut c = db.client();
    let id = |c: &mut postgres::Client,
              sql: &str,
              params: &[&(dyn postgres::types::ToSql + Sync)]|
     -> Option<i64> {
        c.query_one(sql, params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get("id")
    };
    let queued: i64 = db
        .value("SELECT id FROM app_jobs.jobs WHERE locked_by = 'worker-up-1' AND queue_name = 'q-mail'")
        .unwrap()
        .parse()
        .unwrap();
    // The upstream worker that held the lock completes its job: deleted, queue freed.
    let done = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".complete_job($1, $2)",
        &[&"worker-up-1", &queued],
    );
    assert_eq!(done, Some(queued));
    assert_eq!(
        db.value(&format!(
            "SELECT count(*) FROM app_jobs.jobs WHERE id = {queued}"
        ))
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.value("SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'q-mail'"),
        None
    );
    // worker-up-2 fails its job: retried later, unlocked, error kept.
    let ready: i64 = db
        .value("SELECT id FROM app_jobs.jobs WHERE locked_by = 'worker-up-2'")
        .unwrap()
        .parse()
        .unwrap();
    let failed = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".fail_job($1, $2, $3)",
        &[&"worker-up-2", &ready, &"boom after adopt"],
    );
    assert_eq!(failed, Some(ready));
    assert_eq!(
        db.value(&format!(
            "SELECT last_error || ' ' || (locked_by IS NULL) FROM app_jobs.jobs WHERE id = {ready}"
        ))
        .as_deref(),
        Some("boom after adopt true")
    );
    // A new claim, with and without a task list; then release_jobs.
    let claimed = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".get_job($1, $2::text[])",
        &[&"worker-0", &vec!["queued_task".to_owned()]],
    );
    assert!(claimed.is_some());
    c.execute("SELECT \"app_jobs\".release_jobs($1)", &[&"worker-0"])
        .unwrap();
    let none: Option<Vec<String>> = None;
    let any = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".get_job($1, $2::text[])",
        &[&"worker-1", &none],
    );
    assert!(any.is_some());
    // A new job gets an id above every old one.
    let added = id(
        &mut c,
        "SELECT * FROM app_jobs.add_job($1::text::uuid, $2, $3::text::json)",
        &[&T1, &"after_adopt", &"{}"],
    )
    .unwrap();
    assert!(added > max_id, "{added} <= {max_id}");
    // Scheduler calls: the claimed definition's job is still pending → ALREADY_SCHEDULED.
    let sched: i64 = db
        .value("SELECT id FROM app_jobs.scheduled_jobs WHERE locked_by = 'scheduler-0'")
        .unwrap()
        .parse()
        .unwrap();
    let err = c
        .query_one(
            "SELECT * FROM \"app_jobs\".run_scheduled_job($1)",
            &[&sched],
        )
        .expect_err("the spawned job is still pending");
    let message = err.as_db_error().map(|e| e.message().to_owned());
    assert_eq!(message.as_deref(), Some("ALREADY_SCHEDULED"), "{err:?}");
    c.execute(
        "SELECT \"app_jobs\".release_scheduled_jobs($1, $2::bigint[])",
        &[&"scheduler-0", &none_ids()],
    )
    .unwrap();
    let claimed = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".get_scheduled_job($1, $2::text[])",
        &[&"scheduler-1", &vec!["sched_rec".to_owned()]],
    );
    assert!(claimed.is_some());
    let spawned = id(
        &mut c,
        "SELECT * FROM \"app_jobs\".run_scheduled_job($1)",
        &[&claimed.unwrap()],
    );
    assert!(spawned.is_some());

    // jobsctl's own view, after the upstream calls.
    for args in [vec!["status", "--exit-code"], vec!["verify"]] {
        let run = jobsctl(&db, &args);
        assert!(run.ok, "{}", run.text);
    }

    // pgpm's engine sees pgpm-jobs deployed: deploying the exported
    // workspace skips every change.
    let export = tempfile::tempdir().unwrap();
    let out = export.path().join("ws");
    let run = crate::common::jobsctl()
        .args(["export", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let before = registry(&db);
    let outcome = pgpm("deploy", &out, Some("pgpm-jobs"), &db);
    assert!(
        outcome.ok,
        "pgpm deploy after adopt: {}",
        outcome.describe()
    );
    assert_eq!(registry(&db), before, "pgpm deployed something again");
}

fn none_ids() -> Option<Vec<i64>> {
    None
}

/// Refused with `expected` in the message, exit 1, nothing changed.
fn assert_refused(db: &TestDb, expected: &[&str]) {
    let before = (rows(db), registry(db), app_jobs_dump(db));
    for args in [&["--dry-run"][..], &[]] {
        let run = adopt(db, args);
        assert_eq!(run.code, Some(1), "{}", run.text);
        for e in expected {
            assert!(run.text.contains(e), "{e:?} in\n{}", run.text);
        }
        assert!(run.text.contains("was not changed"), "{}", run.text);
    }
    assert!(
        before == (rows(db), registry(db), app_jobs_dump(db)),
        "a refused adopt changed the database"
    );
}

#[test]
fn adopt_refuses_an_edited_registry_row() {
    let (db, _ws) = upstream("adopt_edited_hash");
    db.client()
        .batch_execute(
            "UPDATE pgpm_migrate.changes SET script_hash = repeat('0', 64) \
             WHERE package = 'pgpm-database-jobs' AND change_name = 'schemas/app_jobs/procedures/get_job'",
        )
        .unwrap();
    assert_refused(
        &db,
        &[
            "is not @pgpm/database-jobs 0.16.0 as published: 1 difference",
            "different: change schemas/app_jobs/procedures/get_job: recorded script_hash 0000",
        ],
    );
}

#[test]
fn adopt_refuses_a_dropped_column() {
    let (db, _ws) = upstream("adopt_dropped_column");
    db.client()
        .batch_execute("ALTER TABLE app_jobs.jobs DROP COLUMN last_error CASCADE")
        .unwrap();
    assert_refused(
        &db,
        &["missing column jobs.last_error: text", "REFUSED objects"],
    );
}

#[test]
fn adopt_refuses_a_json_string_schedule_by_id() {
    let (db, _ws) = upstream("adopt_string_schedule");
    fill(&db);
    let id = db
        .value(&format!(
            "SELECT id FROM app_jobs.add_scheduled_job('{T1}', 'sched_string', '{{}}', '\"0 4 * * *\"')"
        ))
        .unwrap();
    assert_refused(
        &db,
        &[&format!(
            "schedule_info is not a JSON object (e.g. a cron string, which node-schedule accepts and our CHECK rejects): ids {id};"
        )],
    );
}

/// jobsctl's session is terminated while it waits for the table locks (a
/// test transaction holds app_jobs.jobs): the upstream installation is
/// exactly as it was.
#[test]
fn adopt_killed_while_waiting_for_the_table_locks_changes_nothing() {
    let (db, _ws) = upstream("adopt_killed");
    fill(&db);
    let before = (rows(&db), registry(&db), app_jobs_dump(&db));
    let mut holder = db.client();
    holder
        .batch_execute("BEGIN; LOCK TABLE app_jobs.jobs IN ACCESS SHARE MODE")
        .unwrap();
    #[allow(deprecated)]
    let program = assert_cmd::cargo::cargo_bin("jobsctl");
    let mut child = std::process::Command::new(program)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("JOBSCTL_WORKSPACE")
        .env("PGPASSFILE", "/nonexistent/jobsctl-test-pgpass")
        .envs(db.env())
        .args(["adopt", "--allow-role-changes", "--lock-timeout", "600"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut admin = db.client();
    let pid = loop {
        let row = admin
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                   AND wait_event_type = 'Lock' AND query LIKE '%LOCK TABLE app_jobs.jobs%'",
                &[],
            )
            .unwrap();
        if let Some(row) = row {
            break row.get::<_, i32>(0);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "jobsctl ended before it waited for the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(crate::common::terminate_backend(&mut admin, pid));
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert!(
        before == (rows(&db), registry(&db), app_jobs_dump(&db)),
        "a killed adopt changed the database"
    );
    // And it can be adopted afterwards.
    let run = adopt(&db, &[]);
    assert!(run.ok, "{}", run.text);
}
