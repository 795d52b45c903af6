//! `jobsctl dev start|stop|status|env`: a real dev cluster per test, each
//! in its own temporary folder, always stopped at the end (a guard stops it
//! even when the test fails).

mod common;

use common::pg::TestDb;
use common::{TempWorkspace, jobsctl, json_stdout};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A dev cluster folder in a temporary project folder; dropping it stops
/// the cluster (if it runs) before the folder goes.
struct DevCluster {
    project: tempfile::TempDir,
}

impl DevCluster {
    fn new() -> DevCluster {
        DevCluster {
            project: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The project folder (the current folder of `cmd`).
    fn project(&self) -> &Path {
        self.project.path()
    }

    fn data_dir(&self) -> PathBuf {
        self.project().join("data")
    }

    /// `jobsctl dev <args> --data-dir <data>`, run in the project folder.
    fn dev(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.cmd();
        cmd.arg("dev")
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir());
        cmd
    }

    /// `jobsctl` in the project folder, finding this cluster through
    /// `JOBSCTL_DEV_DIR`.
    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = jobsctl();
        cmd.current_dir(self.project())
            .env_remove("JOBSCTL_CONFIG")
            .env("JOBSCTL_DEV_DIR", self.data_dir());
        cmd
    }

    fn start(&self) -> serde_json::Value {
        let output = self.dev(&["start", "--format", "json"]).output().unwrap();
        assert!(
            output.status.success(),
            "dev start failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        json_stdout(&output)
    }

    fn status(&self) -> serde_json::Value {
        json_stdout(&self.dev(&["status", "--format", "json"]).output().unwrap())
    }

    /// The `PG*` variables `dev env` prints, parsed from its `export` lines.
    fn env(&self) -> Vec<(String, String)> {
        let output = self.dev(&["env"]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let assignment = line.strip_prefix("export ").expect("an export line");
                let (name, value) = assignment.split_once('=').unwrap();
                let value = value.trim_matches('\'');
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    fn client(&self, database: &str) -> postgres::Client {
        let env = self.env();
        let get = |name: &str| env.iter().find(|(n, _)| n == name).unwrap().1.clone();
        postgres::Config::new()
            .host(&get("PGHOST"))
            .port(get("PGPORT").parse().unwrap())
            .user(&get("PGUSER"))
            .dbname(database)
            .connect(postgres::NoTls)
            .unwrap()
    }
}

impl Drop for DevCluster {
    fn drop(&mut self) {
        let _ = self.dev(&["stop"]).output();
    }
}

fn uid_of(pid: i64) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// The uid of the `postgres` account (from /etc/passwd).
fn postgres_uid() -> u32 {
    std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find_map(|l| {
            let fields: Vec<&str> = l.split(':').collect();
            (fields[0] == "postgres").then(|| fields[2].parse().unwrap())
        })
        .expect("a postgres user")
}

#[test]
fn start_env_deploy_stop_and_start_again_with_the_data_kept() {
    let dev = DevCluster::new();
    let started = dev.start();
    assert_eq!(started["action"], "started");
    assert_eq!(started["created"], true);
    assert_eq!(started["running"], true);
    let port = started["port"].as_u64().unwrap();
    let pid = started["pid"].as_i64().unwrap();
    let socket = started["socket_dir"].as_str().unwrap().to_owned();
    assert!(
        started["version"]
            .as_str()
            .unwrap()
            .starts_with(char::is_numeric)
    );

    // Idempotent: already running is a success that says so.
    dev.dev(&["start"])
        .assert()
        .success()
        .stderr(predicate::str::contains("already running"))
        .stdout(predicate::str::contains(format!("port      {port}")));

    let status = dev.status();
    assert_eq!(status["running"], true);
    assert_eq!(status["pid"].as_i64(), Some(pid));
    assert_eq!(status["data_dir"].as_str(), dev.data_dir().to_str());
    dev.dev(&["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dev cluster running"))
        .stdout(predicate::str::contains(&socket));

    let env = dev.env();
    assert_eq!(
        env,
        [
            ("PGHOST".to_owned(), socket.clone()),
            ("PGPORT".to_owned(), port.to_string()),
            ("PGUSER".to_owned(), "postgres".to_owned()),
            ("PGDATABASE".to_owned(), "jobs".to_owned()),
        ]
    );
    // A new cluster has its database already; the socket is private.
    dev.client("jobs").simple_query("SELECT 1").unwrap();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);

    // No connection configured: deploy goes to the dev cluster and says so.
    dev.cmd()
        .args(["deploy", "--createdb"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "using the dev cluster at postgres@{socket}:{port}/jobs"
        )))
        .stdout(predicate::str::contains(
            "deployed  pgpm-jobs:schemas/app_jobs/schema",
        ));
    dev.cmd().arg("verify").assert().success();
    // `--target dev` names it explicitly, without the note.
    dev.cmd()
        .args(["status", "--exit-code", "--target", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("using the dev cluster").not());

    dev.dev(&["stop"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "stopped the dev cluster (pid {pid})"
        )));
    let status = dev.status();
    assert_eq!(status["running"], false);
    assert_eq!(status["initialized"], true);
    dev.dev(&["status"]).assert().code(1);
    dev.dev(&["env"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("not running"))
        .stderr(predicate::str::contains("jobsctl dev start"));
    dev.dev(&["stop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("not running"));
    dev.cmd()
        .args(["status", "--target", "dev"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not running"));

    // Started again: the same port, the deployed changes still there.
    let again = dev.start();
    assert_eq!(again["created"], false);
    assert_eq!(again["port"].as_u64(), Some(port));
    assert_ne!(again["pid"].as_i64(), Some(pid));
    let deployed: i64 = dev
        .client("jobs")
        .query_one("SELECT count(*) FROM pgpm_migrate.changes", &[])
        .unwrap()
        .get(0);
    assert!(deployed > 40, "{deployed} changes deployed");
    dev.cmd().args(["status", "--exit-code"]).assert().success();
}

#[test]
fn the_server_never_runs_as_root() {
    let dev = DevCluster::new();
    let started = dev.start();
    let pid = started["pid"].as_i64().unwrap();
    let data = dev.data_dir();
    let owner =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(data.join("pgdata")).unwrap());
    if is_root() {
        let postgres = postgres_uid();
        assert_eq!(uid_of(pid), postgres, "the postmaster runs as postgres");
        assert_eq!(owner, postgres, "the cluster belongs to postgres");
    } else {
        assert_eq!(uid_of(pid), owner);
    }
    let user: String = dev
        .client("postgres")
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(user, "postgres");
}

#[test]
fn the_default_folder_is_the_project_and_is_found_from_below() {
    let dev = DevCluster::new();
    // No --data-dir, no JOBSCTL_DEV_DIR: `.jobsctl/dev` of the current folder.
    let mut start = jobsctl();
    start
        .current_dir(dev.project())
        .env_remove("JOBSCTL_DEV_DIR")
        .args(["dev", "start", "--port", "5999"]);
    // The guard stops the cluster by --data-dir: make it this one.
    let default = dev.project().join(".jobsctl/dev");
    struct Stop(PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = jobsctl()
                .args(["dev", "stop", "--data-dir"])
                .arg(&self.0)
                .output();
        }
    }
    let _stop = Stop(default.clone());
    start
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "socket    {}",
            default.join("run").display()
        )))
        .stdout(predicate::str::contains("port      5999"));

    let below = dev.project().join("packages/app");
    std::fs::create_dir_all(&below).unwrap();
    jobsctl()
        .current_dir(&below)
        .env_remove("JOBSCTL_DEV_DIR")
        .args(["dev", "env"])
        .assert()
        .success()
        .stdout(predicate::str::contains("export PGPORT=5999"));
    jobsctl()
        .current_dir(&below)
        .env_remove("JOBSCTL_DEV_DIR")
        .args(["dev", "stop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("stopped the dev cluster"));
}

#[test]
fn a_configured_connection_wins_over_the_dev_cluster() {
    let dev = DevCluster::new();
    dev.start();
    let db = TestDb::new("dev_configured");
    dev.cmd()
        .envs(db.env())
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("/{}", db.name)))
        .stderr(predicate::str::contains("using the dev cluster").not());
    dev.cmd()
        .args(["status", "-d", &db.tcp_url()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("/{}", db.name)));
    // PGUSER alone picks no server: the dev cluster is used.
    dev.cmd()
        .env("PGUSER", "nobody")
        .args(["status"])
        .assert()
        .success()
        .stderr(predicate::str::contains("using the dev cluster"));
    // jobsctl.toml's [dev] database is the dev cluster's database.
    let ws = TempWorkspace::new();
    ws.write("jobsctl.toml", "[dev]\ndatabase = \"other\"\n");
    dev.cmd()
        .current_dir(ws.path())
        .args(["deploy", "--createdb", "--to", "pgpm-verify:@0.1.0"])
        .assert()
        .success()
        .stderr(predicate::str::contains("created database other"))
        .stderr(predicate::str::contains("/other"));
}

#[test]
fn the_server_user_must_reach_the_folder() {
    if !is_root() {
        return; // only root hands the cluster to another user
    }
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        closed.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let data = closed.path().join("dev");
    jobsctl()
        .args(["dev", "start", "--data-dir"])
        .arg(&data)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot reach"))
        .stderr(predicate::str::contains("--data-dir"));
    assert!(!data.join("pgdata").exists());
}

#[test]
fn no_dev_cluster_and_nothing_configured_hints_at_dev_start() {
    let dev = DevCluster::new();
    dev.cmd()
        .args(["status"])
        .env("PGCONNECT_TIMEOUT", "2")
        // Nothing listens there: libpq's defaults fail fast.
        .env("PGUSER", "nobody_here")
        .assert()
        .failure()
        .stderr(predicate::str::contains("hint: no database is configured"))
        .stderr(predicate::str::contains("jobsctl dev start"));
}

#[test]
fn a_project_the_server_user_cannot_reach_keeps_its_files_elsewhere() {
    if !is_root() {
        return; // only root hands the cluster to another user
    }
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        closed.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let project = closed.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let cmd = |args: &[&str]| {
        let mut cmd = jobsctl();
        cmd.current_dir(&project)
            .env_remove("JOBSCTL_DEV_DIR")
            .arg("dev")
            .args(args);
        cmd
    };
    /// Stops the cluster and removes its files under /var/tmp.
    struct Cleanup(PathBuf, Option<PathBuf>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = jobsctl()
                .current_dir(&self.0)
                .env_remove("JOBSCTL_DEV_DIR")
                .args(["dev", "stop"])
                .output();
            if let Some(dir) = &self.1 {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    let mut cleanup = Cleanup(project.clone(), None);
    let output = cmd(&["start", "--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let started = json_stdout(&output);
    let pgdata = PathBuf::from(started["pgdata"].as_str().unwrap());
    cleanup.1 = pgdata.parent().map(Path::to_path_buf);
    assert!(pgdata.starts_with("/var/tmp"), "{}", pgdata.display());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach"));
    assert_eq!(
        started["data_dir"].as_str(),
        project.join(".jobsctl/dev").to_str()
    );
    // Found again through the project folder.
    cmd(&["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "pgdata    {}",
            pgdata.display()
        )));
    cmd(&["stop"]).assert().success();
    let again = json_stdout(&cmd(&["start", "--format", "json"]).output().unwrap());
    assert_eq!(again["created"], false);
    assert_eq!(again["pgdata"], started["pgdata"]);
}
