//! `jobsctl worker` as a real process against a real PostgreSQL: exec and
//! http handlers (with a local test server on 127.0.0.1), many workers over
//! thousands of jobs, crashes, signals, lost sessions and lock refresh.
//! No timing assertions: only generous deadlines for things to happen.

mod common;

use common::jobsctl_on;
use common::pg::TestDb;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TENANT: &str = "5b720132-17d5-424d-9bcb-ee7b17c13d43";
const DEADLINE: Duration = Duration::from_secs(60);

fn deployed(label: &str) -> TestDb {
    let db = TestDb::new(label);
    jobsctl_on(&db).arg("deploy").assert().success();
    db
}

fn add_job(db: &TestDb, task: &str, payload: &str, max_attempts: i32) -> i64 {
    db.client()
        .query_one(
            "SELECT id FROM app_jobs.add_job($1::text::uuid, $2, $3::text::json, max_attempts := $4)",
            &[&TENANT, &task, &payload, &max_attempts],
        )
        .unwrap()
        .get(0)
}

fn job_row(db: &TestDb, id: i64) -> Option<(i32, Option<String>, Option<String>)> {
    db.client()
        .query_opt(
            "SELECT attempts, last_error, locked_by FROM app_jobs.jobs WHERE id = $1",
            &[&id],
        )
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A background worker process; killed when dropped.
struct Worker {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Worker {
    fn start(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Worker {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("jobsctl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("PGPASSFILE", "/nonexistent/jobsctl-test-pgpass")
            .envs(db.env())
            .envs(env.iter().copied())
            .arg("worker")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap());
        Worker {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Wait for the exit code (a signal counts as None).
    fn wait(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the worker did not stop; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A run with `--once`, which stops when nothing is runnable.
fn run_once(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut worker = Worker::start(
        db,
        &[&["--once", "--no-schedule", "--poll-interval", "0.2"], args].concat(),
        env,
    );
    let code = worker.wait();
    (code, worker.log())
}

// ---------------------------------------------------------------------------
// exec

#[test]
fn exec_completes_on_exit_0_and_fails_with_the_stderr_tail() {
    let db = deployed("worker_exec");
    let out = tempfile::tempdir().unwrap();
    let ok = add_job(&db, "ok", r#"{"n": 1}"#, 1);
    let fail = add_job(&db, "fail", "{}", 1);
    let binary = add_job(&db, "binary", "{}", 1);
    let missing = add_job(&db, "missing", "{}", 1);
    let (code, log) = run_once(
        &db,
        &[
            "--task",
            r#"ok=exec:sh -c 'cat > "$OUT/$JOBSCTL_JOB_ID"; env | grep -E "^(JOBSCTL_JOB_|PG)" | sort >> "$OUT/$JOBSCTL_JOB_ID.env"'"#,
            "--task",
            "fail=exec:sh -c 'echo first line >&2; echo boom >&2; exit 3'",
            "--task",
            r#"binary=exec:sh -c "printf 'bad \377\376 bytes' >&2; exit 1""#,
            "--task",
            "missing=exec:/nonexistent/jobsctl-handler",
        ],
        &[("OUT", out.path().to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "{log}");
    // completed: gone, with its payload on stdin and metadata in the environment
    assert_eq!(job_row(&db, ok), None, "{log}");
    let stdin = std::fs::read_to_string(out.path().join(ok.to_string())).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdin).unwrap()["n"],
        1
    );
    let env = std::fs::read_to_string(out.path().join(format!("{ok}.env"))).unwrap();
    assert!(env.contains(&format!("JOBSCTL_JOB_ID={ok}")), "{env}");
    assert!(env.contains("JOBSCTL_JOB_TASK=ok"), "{env}");
    assert!(
        env.contains(&format!("JOBSCTL_JOB_DATABASE_ID={TENANT}")),
        "{env}"
    );
    assert!(env.contains("JOBSCTL_JOB_ATTEMPTS=1"), "{env}");
    assert!(env.contains("JOBSCTL_JOB_MAX_ATTEMPTS=1"), "{env}");
    assert!(
        !env.contains("PG"),
        "the worker's credentials leaked: {env}"
    );
    // failed: permanently (max_attempts 1), with a reason
    let (attempts, error, locked_by) = job_row(&db, fail).unwrap();
    assert_eq!((attempts, locked_by), (1, None));
    let error = error.unwrap();
    assert!(
        error.contains("exit status 3") && error.contains("boom"),
        "{error}"
    );
    let error = job_row(&db, binary).unwrap().1.unwrap();
    assert!(
        error.contains("bad") && error.contains('\u{fffd}'),
        "{error}"
    );
    let error = job_row(&db, missing).unwrap().1.unwrap();
    assert!(
        error.contains("cannot start /nonexistent/jobsctl-handler"),
        "{error}"
    );
    // one log line per job
    assert!(
        log.contains("job completed") && log.contains("job failed"),
        "{log}"
    );
}

#[test]
fn exec_timeout_kills_the_process_group() {
    let db = deployed("worker_timeout");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jobsctl.toml");
    std::fs::write(
        &config,
        "[worker.tasks.slow]\nexec = [\"sh\", \"-c\", \"sleep 30 & sleep 30\"]\ntimeout = 1\n",
    )
    .unwrap();
    let id = add_job(&db, "slow", "{}", 1);
    let (code, log) = run_once(&db, &["--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{log}");
    let error = job_row(&db, id).unwrap().1.unwrap();
    assert!(error.contains("timed out after 1s"), "{error}");
}

#[test]
fn usage_errors_exit_2() {
    let db = deployed("worker_usage");
    jobsctl_on(&db).args(["worker"]).assert().code(2);
    jobsctl_on(&db)
        .args(["worker", "--task", "x=shell:ls"])
        .assert()
        .code(2);
    let empty = TestDb::new("worker_no_schema");
    jobsctl_on(&empty)
        .args(["worker", "--task", "x=noop"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("jobsctl deploy"));
}

// ---------------------------------------------------------------------------
// http, against a small server on 127.0.0.1

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers by path: /ok 200, /fail 500 "kaput", /slow after 5 s, /cb 202
/// and then calls back (failing when the payload says so).
fn test_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || serve_one(stream, log));
        }
    });
    (base, seen)
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        path,
        headers,
        body,
    })
}

fn serve_one(mut stream: TcpStream, log: Arc<Mutex<Vec<Seen>>>) {
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    let (status, body) = match request.path.as_str() {
        "/ok" => ("200 OK", ""),
        "/fail" => ("500 Internal Server Error", "kaput"),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(5));
            ("200 OK", "")
        }
        "/cb" => ("202 Accepted", ""),
        _ => ("404 Not Found", ""),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    drop(stream);
    if request.path == "/cb" {
        let url = request.header("x-callback-url").unwrap().to_owned();
        let failing = String::from_utf8_lossy(&request.body).contains("\"fail\"");
        let address = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let mut call = TcpStream::connect(address).unwrap();
        let body = if failing {
            r#"{"status":"error","error":"nope"}"#
        } else {
            r#"{"status":"success"}"#
        };
        let _ = write!(
            call,
            "POST /callback HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-worker-id: {}\r\nx-job-id: {}\r\n{}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            request.header("x-worker-id").unwrap(),
            request.header("x-job-id").unwrap(),
            if failing { "x-job-error: true\r\n" } else { "" },
            body.len()
        );
        let mut answer = String::new();
        let _ = call.read_to_string(&mut answer);
    }
}

#[test]
fn http_handler_outcomes_headers_and_signature() {
    let db = deployed("worker_http");
    let (base, seen) = test_server();
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jobsctl.toml");
    std::fs::write(
        &config,
        format!(
            "[worker.tasks.ok]\nhttp = \"{base}/ok\"\nsecret = \"${{HOOK_SECRET}}\"\n\n\
             [worker.tasks.slow]\nhttp = \"{base}/slow\"\ntimeout = 1\n"
        ),
    )
    .unwrap();
    let ok = add_job(&db, "ok", r#"{"to": "a@example.com"}"#, 1);
    let fail = add_job(&db, "fail", "{}", 1);
    let slow = add_job(&db, "slow", "{}", 1);
    let gone = add_job(&db, "refused", "{}", 1);
    let (code, log) = run_once(
        &db,
        &[
            "--config",
            config.to_str().unwrap(),
            "--worker-id",
            "http-worker",
            "--task",
            &format!("fail=http:{base}/fail"),
            "--task",
            &format!("refused=http:http://127.0.0.1:{refused}/x"),
        ],
        &[("HOOK_SECRET", "s3cret")],
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(job_row(&db, ok), None, "{log}");
    let error = job_row(&db, fail).unwrap().1.unwrap();
    assert!(error.contains("500") && error.contains("kaput"), "{error}");
    let error = job_row(&db, slow).unwrap().1.unwrap();
    assert!(error.contains("no answer within 1s"), "{error}");
    let error = job_row(&db, gone).unwrap().1.unwrap();
    assert!(error.contains("cannot connect"), "{error}");

    let seen = seen.lock().unwrap();
    let request = seen.iter().find(|s| s.path == "/ok").unwrap();
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-job-id"), Some(ok.to_string().as_str()));
    assert_eq!(request.header("x-worker-id"), Some("http-worker"));
    assert_eq!(request.header("x-database-id"), Some(TENANT));
    assert_eq!(request.header("x-job-attempts"), Some("1"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["to"], "a@example.com");
    // Standard Webhooks signature over id.timestamp.body
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    let id = request.header("webhook-id").unwrap();
    let timestamp = request.header("webhook-timestamp").unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        request.header("webhook-signature"),
        Some(format!("v1,{expected}").as_str())
    );
    // unsigned without a secret
    let failed = seen.iter().find(|s| s.path == "/fail").unwrap();
    assert_eq!(failed.header("webhook-signature"), None);
}

#[test]
fn callback_mode_completes_and_fails_by_callback() {
    let db = deployed("worker_callback");
    let (base, seen) = test_server();
    let good = add_job(&db, "fn", r#"{"x": 1}"#, 1);
    let bad = add_job(&db, "fn", r#"{"fail": true}"#, 1);
    let (code, log) = run_once(
        &db,
        &[
            "--task",
            &format!("fn=callback:{base}/cb"),
            "--callback-addr",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(job_row(&db, good), None, "{log}");
    let error = job_row(&db, bad).unwrap().1.unwrap();
    assert_eq!(error, "nope");
    let seen = seen.lock().unwrap();
    let request = seen.iter().find(|s| s.path == "/cb").unwrap();
    assert!(
        request
            .header("x-callback-url")
            .unwrap()
            .ends_with("/callback")
    );
    assert!(request.header("x-database-id").is_some());
}

// ---------------------------------------------------------------------------
// many workers, crashes, signals

/// `sh -c` that appends the job id to $OUT/effects (one short write, atomic
/// with O_APPEND).
const RECORD: &str = r#"exec:sh -c 'echo "$JOBSCTL_JOB_ID" >> "$OUT/effects"'"#;

fn effects(dir: &Path) -> Vec<i64> {
    std::fs::read_to_string(dir.join("effects"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn four_workers_run_each_job_exactly_once() {
    let jobs: i64 = std::env::var("JOBSCTL_TEST_WORKER_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let db = deployed("worker_many");
    let out = tempfile::tempdir().unwrap();
    db.client()
        .execute(
            &format!(
                "SELECT count(*) FROM app_jobs.add_jobs((SELECT jsonb_agg(jsonb_build_object('db_id', '{TENANT}', 'identifier', 'rec', 'payload', jsonb_build_object('n', n))) FROM generate_series(1, {jobs}) n))"
            ),
            &[],
        )
        .unwrap();
    let task = format!("rec={RECORD}");
    let mut workers: Vec<Worker> = (0..4)
        .map(|_| {
            Worker::start(
                &db,
                &[
                    "--once",
                    "--no-schedule",
                    "--concurrency",
                    "8",
                    "--task",
                    &task,
                ],
                &[("OUT", out.path().to_str().unwrap())],
            )
        })
        .collect();
    for w in &mut workers {
        assert_eq!(w.wait(), Some(0), "{}", w.log());
    }
    let mut seen = effects(out.path());
    assert_eq!(seen.len() as i64, jobs, "effects");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as i64, jobs, "each job's effect once");
    assert_eq!(
        db.value("SELECT count(*) FROM app_jobs.jobs").as_deref(),
        Some("0")
    );
}

fn short_expiry(db: &TestDb, expiry: &str) {
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET app_jobs.job_expiry = '{expiry}'",
            db.value("SELECT current_database()").unwrap()
        ))
        .unwrap();
}

#[test]
fn a_killed_workers_job_comes_back_after_expiry() {
    let db = deployed("worker_sigkill");
    short_expiry(&db, "2 seconds");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // the first attempt hangs (and announces itself), later ones record
    let task = r#"k=exec:sh -c 'if [ "$JOBSCTL_JOB_ATTEMPTS" = 1 ]; then echo $$ > "$OUT/started"; exec sleep 20; fi; echo "$JOBSCTL_JOB_ID" >> "$OUT/effects"'"#;
    let id = add_job(&db, "k", "{}", 5);
    let mut first = Worker::start(&db, &["--no-schedule", "--task", task], &[("OUT", dir)]);
    wait_until("the first attempt", || {
        std::fs::read_to_string(out.path().join("started")).is_ok_and(|t| t.ends_with('\n'))
    });
    first.signal(libc::SIGKILL);
    first.wait();
    // its handler (own process group) is orphaned: stop it, by its pid
    let pid: i32 = std::fs::read_to_string(out.path().join("started"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signalling the handler process this test started.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let mut second = Worker::start(
        &db,
        &["--no-schedule", "--poll-interval", "0.2", "--task", task],
        &[("OUT", dir)],
    );
    wait_until("the job to be completed by the second worker", || {
        job_row(&db, id).is_none()
    });
    assert_eq!(effects(out.path()), vec![id]);
    second.signal(libc::SIGTERM);
    assert_eq!(second.wait(), Some(0), "{}", second.log());
}

#[test]
fn a_live_workers_long_job_is_not_taken_over() {
    let db = deployed("worker_refresh");
    short_expiry(&db, "1 second");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let task = r#"long=exec:sh -c 'sleep 4; echo "$JOBSCTL_JOB_ID $JOBSCTL_JOB_ATTEMPTS" >> "$OUT/effects"'"#;
    let id = add_job(&db, "long", "{}", 5);
    let mut a = Worker::start(
        &db,
        &["--no-schedule", "--poll-interval", "0.2", "--task", task],
        &[("OUT", dir)],
    );
    let mut b = Worker::start(
        &db,
        &["--no-schedule", "--poll-interval", "0.2", "--task", task],
        &[("OUT", dir)],
    );
    wait_until("the job to finish", || job_row(&db, id).is_none());
    let lines = std::fs::read_to_string(out.path().join("effects")).unwrap();
    assert_eq!(lines.trim(), format!("{id} 1"), "one run, first attempt");
    for w in [&mut a, &mut b] {
        w.signal(libc::SIGTERM);
        assert_eq!(w.wait(), Some(0), "{}", w.log());
    }
}

#[test]
fn a_job_whose_lock_is_lost_is_stopped_and_not_reported() {
    let db = deployed("worker_lock_lost");
    // refresh every 250 ms
    short_expiry(&db, "1 second");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let task = r#"slow=exec:sh -c 'echo $$ > "$OUT/started"; sleep 30; echo "$JOBSCTL_JOB_ID" >> "$OUT/effects"'"#;
    let id = add_job(&db, "slow", "{}", 5);
    let mut w = Worker::start(
        &db,
        &["--no-schedule", "--poll-interval", "0.2", "--task", task],
        &[("OUT", dir)],
    );
    wait_until("the job to start", || {
        std::fs::read_to_string(out.path().join("started")).is_ok_and(|t| t.ends_with('\n'))
    });
    let pid = std::fs::read_to_string(out.path().join("started"))
        .unwrap()
        .trim()
        .to_owned();
    // Another holder takes the job (as after an expiry), locked well ahead
    // so that nobody recovers it during the test.
    db.client()
        .execute(
            "UPDATE app_jobs.jobs SET locked_by = 'intruder', locked_at = now() + interval '1 hour' WHERE id = $1",
            &[&id],
        )
        .unwrap();
    wait_until("the handler to be stopped", || {
        !Path::new(&format!("/proc/{pid}")).exists() && w.log().contains("lock_lost")
    });
    assert!(
        !out.path().join("effects").exists(),
        "the handler did not finish"
    );
    assert_eq!(
        job_row(&db, id),
        Some((1, None, Some("intruder".to_string()))),
        "neither completed nor failed by the worker"
    );
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(), Some(0), "{}", w.log());
    assert_eq!(job_row(&db, id).unwrap().2.as_deref(), Some("intruder"));
}

#[test]
fn sigterm_drains_running_jobs_and_the_timeout_releases_the_rest() {
    let db = deployed("worker_sigterm");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // drain: a 1 s job finishes after SIGTERM
    let task =
        r#"t=exec:sh -c 'touch "$OUT/started"; sleep 1; echo "$JOBSCTL_JOB_ID" >> "$OUT/effects"'"#;
    let id = add_job(&db, "t", "{}", 5);
    let mut w = Worker::start(&db, &["--no-schedule", "--task", task], &[("OUT", dir)]);
    wait_until("the job to start", || out.path().join("started").exists());
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(), Some(0), "{}", w.log());
    assert_eq!(job_row(&db, id), None);
    assert_eq!(effects(out.path()), vec![id]);

    // timeout: a 30 s job is stopped and released, its attempt not spent
    std::fs::remove_file(out.path().join("started")).unwrap();
    let task = r#"t=exec:sh -c 'touch "$OUT/started"; sleep 30'"#;
    let id = add_job(&db, "t", "{}", 5);
    let mut w = Worker::start(
        &db,
        &["--no-schedule", "--shutdown-timeout", "0.5", "--task", task],
        &[("OUT", dir)],
    );
    wait_until("the job to start", || out.path().join("started").exists());
    w.signal(libc::SIGINT);
    assert_eq!(w.wait(), Some(130), "{}", w.log());
    assert_eq!(job_row(&db, id), Some((0, None, None)), "{}", w.log());
}

#[test]
fn terminated_sessions_reconnect() {
    let db = deployed("worker_terminate");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let task = format!("rec={RECORD}");
    let mut w = Worker::start(
        &db,
        &["--no-schedule", "--poll-interval", "0.2", "--task", &task],
        &[("OUT", dir)],
    );
    let first = add_job(&db, "rec", "{}", 5);
    wait_until("the first job", || job_row(&db, first).is_none());
    let mut admin = db.client();
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'jobsctl') t",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 1, "the worker's sessions were found");
    let second = add_job(&db, "rec", "{}", 5);
    wait_until("the job after the reconnect", || {
        job_row(&db, second).is_none()
    });
    assert_eq!(effects(out.path()), vec![first, second]);
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(), Some(0));
    let log = w.log();
    assert!(
        log.contains("lost the database connection") || log.contains("lost the LISTEN"),
        "{log}"
    );
}

#[test]
fn scheduled_jobs_fire_through_the_worker() {
    let db = deployed("worker_schedule");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    db.client()
        .execute(
            &format!("SELECT app_jobs.add_scheduled_job('{TENANT}', 'rec', '{{}}', '{{\"rule\": \"* * * * * *\"}}')"),
            &[],
        )
        .unwrap();
    let task = format!("rec={RECORD}");
    let mut w = Worker::start(
        &db,
        &["--poll-interval", "0.2", "--task", &task],
        &[("OUT", dir)],
    );
    wait_until("a scheduled job to run", || !effects(out.path()).is_empty());
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(), Some(0), "{}", w.log());
}

/// Three workers fire a one-minute schedule over the same window: its
/// `next_run_at` set 30 minutes back with `catchup: backfill` (so 31 slots
/// are due at once, the catch-up the SQL allows) and `end` at the current
/// minute (so no new slot comes while the test runs). Every worker calls
/// `run_due_scheduled_jobs` at start and every second; none of them handles
/// the task, so the spawned jobs stay and can be counted: exactly one per
/// slot.
#[test]
fn three_workers_fire_each_minute_slot_exactly_once() {
    let db = deployed("worker_schedule_three");
    db.client()
        .batch_execute(&format!(
            "BEGIN;
             SELECT app_jobs.add_scheduled_job('{TENANT}', 'minute', '{{}}'::json,
               json_build_object('rule', '* * * * *', 'catchup', 'backfill', 'catchupWindow', '1 hour',
                 'end', to_char(date_trunc('minute', now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')));
             UPDATE app_jobs.scheduled_jobs SET next_run_at = date_trunc('minute', now()) - interval '30 minutes';
             CREATE TABLE window_end AS SELECT date_trunc('minute', now()) AS at;
             COMMIT;"
        ))
        .unwrap();
    let mut workers: Vec<Worker> = (0..3)
        .map(|_| {
            Worker::start(
                &db,
                &["--poll-interval", "0.2", "--task", "other=noop"],
                &[],
            )
        })
        .collect();
    let count = || {
        db.value("SELECT count(*) FROM app_jobs.jobs WHERE task_identifier = 'minute'")
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    wait_until("31 scheduled jobs", || count() >= 31);
    // Let every worker tick a few more times over the same (used up) window.
    std::thread::sleep(Duration::from_millis(2500));
    for w in &workers {
        w.signal(libc::SIGTERM);
    }
    for w in &mut workers {
        assert_eq!(w.wait(), Some(0), "{}", w.log());
    }
    let row = db
        .client()
        .query_one(
            "SELECT count(*), count(DISTINCT j.run_at),
                    count(*) FILTER (WHERE j.run_at = date_trunc('minute', j.run_at)),
                    min(j.run_at) = e.at - interval '30 minutes', max(j.run_at) = e.at
               FROM app_jobs.jobs AS j, window_end AS e
              WHERE j.task_identifier = 'minute'
              GROUP BY e.at",
            &[],
        )
        .unwrap();
    let (jobs, slots, aligned): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (jobs, slots, aligned),
        (31, 31, 31),
        "one job per minute slot"
    );
    assert!(
        row.get::<_, bool>(3) && row.get::<_, bool>(4),
        "slots -30 min ..= the window's end"
    );
    assert_eq!(
        db.value("SELECT count(*) FROM app_jobs.scheduled_jobs WHERE next_run_at IS NULL")
            .as_deref(),
        Some("1"),
        "past its end, the definition has no next slot"
    );
}

#[test]
fn metrics_are_served() {
    let db = deployed("worker_metrics");
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    add_job(&db, "n", "{}", 1);
    // a job for later: counted as scheduled by app_jobs.job_stats
    db.client()
        .batch_execute(&format!(
            "SELECT app_jobs.add_job('{TENANT}', 'n', run_at := now() + interval '1 day')"
        ))
        .unwrap();
    let mut w = Worker::start(
        &db,
        &[
            "--no-schedule",
            "--task",
            "n=noop",
            "--metrics-addr",
            &addr,
            "--log-format",
            "json",
        ],
        &[],
    );
    let mut text = String::new();
    wait_until(
        "a completed job and the job_stats counts in the metrics",
        || {
            text.clear();
            if let Ok(mut s) = TcpStream::connect(&addr) {
                let _ = write!(
                    s,
                    "GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
                );
                let _ = s.read_to_string(&mut text);
            }
            text.contains("jobsctl_worker_jobs_completed_total{task=\"n\"} 1")
                && text.contains("jobsctl_jobs{task=\"n\",queue=\"\",state=\"scheduled\"} 1")
        },
    );
    assert!(
        text.contains("jobsctl_worker_job_duration_seconds_count{task=\"n\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("jobsctl_worker_jobs_running{task=\"n\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("jobsctl_jobs{task=\"n\",queue=\"\",state=\"scheduled\"} 1"),
        "the job_stats counts: {text}"
    );
    assert!(
        text.contains("jobsctl_jobs{task=\"n\",queue=\"\",state=\"failed\"} 0"),
        "{text}"
    );
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait(), Some(0));
    let log = w.log();
    let line = log
        .lines()
        .find(|l| l.contains("job completed"))
        .expect("a job line");
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["fields"]["task"], "n");
    assert_eq!(value["fields"]["outcome"], "completed");
}
