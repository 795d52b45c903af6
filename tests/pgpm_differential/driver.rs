//! pgpm's own engine, driven from `tests/pgpm/driver.js`: long-lived node
//! processes (one per test thread at most, reused), each answering one
//! JSON request per line.
//!
//! `tests/pgpm/node_modules` is installed with `npm ci` on first use when
//! it is missing or does not match `package-lock.json`; without node and
//! npm the tests fail with a message saying so (they are never skipped).

use crate::common::pg::TestDb;
use crate::common::repo_root;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

const MARK: &str = "@@pgpm-driver@@ ";

/// `tests/pgpm`: package.json, package-lock.json, driver.js, node_modules.
pub fn pgpm_dir() -> PathBuf {
    repo_root().join("tests/pgpm")
}

fn program_version(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Every package the lock file installs at the top level is in
/// node_modules at the locked version.
fn node_modules_match_lock(dir: &Path) -> Result<(), String> {
    let lock: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("package-lock.json"))
            .map_err(|e| format!("package-lock.json: {e}"))?,
    )
    .map_err(|e| format!("package-lock.json: {e}"))?;
    let packages = lock["packages"]
        .as_object()
        .ok_or("package-lock.json has no `packages`")?;
    for (path, entry) in packages {
        if path.is_empty() || path.matches("node_modules/").count() != 1 {
            continue;
        }
        let Some(version) = entry["version"].as_str() else {
            continue;
        };
        let manifest = dir.join(path).join("package.json");
        let installed: serde_json::Value = std::fs::read(&manifest)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| format!("{path} is not installed"))?;
        if installed["version"].as_str() != Some(version) {
            return Err(format!(
                "{path} is {} where the lock says {version}",
                installed["version"]
            ));
        }
    }
    Ok(())
}

/// node and npm are there, and tests/pgpm/node_modules is as locked
/// (installed with `npm ci` if not). Once per test binary; panics with the
/// reason otherwise.
pub fn ensure_installed() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let node = program_version("node").ok_or(
            "node is not installed: the pgpm differential tests drive pgpm's engine (npm \
             @pgpmjs/core) with node; install node and npm (Debian: apt-get install nodejs npm; \
             .ci/run does this on a fresh machine)",
        )?;
        program_version("npm").ok_or(
            "npm is not installed: the pgpm differential tests install pgpm's engine from \
             tests/pgpm/package-lock.json with `npm ci`; install npm (.ci/run does this)",
        )?;
        let dir = pgpm_dir();
        if let Err(why) = node_modules_match_lock(&dir) {
            eprintln!(
                "pgpm differential: node {node}; tests/pgpm/node_modules: {why}; running npm ci"
            );
            let out = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .output()
                .map_err(|e| format!("npm ci: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "`npm ci` in tests/pgpm failed ({}):\n{}\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            node_modules_match_lock(&dir).map_err(|why| {
                format!("after npm ci, tests/pgpm/node_modules still differs: {why}")
            })?;
        }
        Ok(())
    });
    if let Err(why) = ready {
        panic!("{why}");
    }
}

/// What pgpm said about one action.
#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    pub error: String,
    /// Everything pgpm printed while running it.
    pub log: String,
}

impl Outcome {
    /// The error and the log, for a failure message.
    pub fn describe(&self) -> String {
        format!(
            "{}\n--- pgpm's log ---\n{}",
            self.error,
            self.log.trim_end()
        )
    }
}

struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Driver {
    fn spawn() -> Driver {
        ensure_installed();
        let server = crate::common::pg::server();
        // pgpm builds a connection string from the host, which a unix
        // socket folder does not survive: it talks TCP (the test cluster
        // trusts `postgres` on 127.0.0.1).
        let host = if server.host.starts_with('/') {
            "127.0.0.1".to_owned()
        } else {
            server.host.clone()
        };
        let mut cmd = Command::new("node");
        cmd.arg(pgpm_dir().join("driver.js"))
            .current_dir(pgpm_dir())
            .env("PGHOST", host)
            .env("PGPORT", server.port.to_string())
            .env("PGUSER", &server.user)
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .env_remove("PGDATABASE")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match &server.password {
            Some(password) => cmd.env("PGPASSWORD", password),
            None => cmd.env_remove("PGPASSWORD"),
        };
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start node tests/pgpm/driver.js: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Driver {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    fn call(
        &mut self,
        action: &str,
        workspace: &Path,
        target: Option<&str>,
        database: &str,
    ) -> Outcome {
        let id = self.next_id;
        self.next_id += 1;
        let request = serde_json::json!({
            "id": id, "action": action, "workspace": workspace, "target": target, "database": database,
        });
        writeln!(self.stdin, "{request}").expect("send a request to tests/pgpm/driver.js");
        self.stdin.flush().unwrap();
        let mut stray = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .expect("read tests/pgpm/driver.js");
            if n == 0 {
                let status = self.child.wait().ok();
                panic!("tests/pgpm/driver.js exited ({status:?}) during {action}:\n{stray}");
            }
            let Some(json) = line.strip_prefix(MARK) else {
                stray.push_str(&line);
                continue;
            };
            let answer: serde_json::Value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("driver answer {json:?}: {e}"));
            let log = format!("{stray}{}", answer["log"].as_str().unwrap_or(""));
            return Outcome {
                ok: answer["ok"].as_bool() == Some(true),
                error: answer["error"].as_str().unwrap_or("").to_owned(),
                log,
            };
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static IDLE: Mutex<Vec<Driver>> = Mutex::new(Vec::new());

/// pgpm's CLI action `action` (`deploy`, `revert`, `verify`) in
/// `workspace`, for the module `target` (`module`, `module:change`,
/// `module:@tag`) or the whole workspace, on `db`.
pub fn pgpm(action: &str, workspace: &Path, target: Option<&str>, db: &TestDb) -> Outcome {
    let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut driver = idle.unwrap_or_else(Driver::spawn);
    let outcome = driver.call(action, workspace, target, &db.name);
    IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(driver);
    outcome
}
