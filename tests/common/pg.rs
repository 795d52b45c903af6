//! A throwaway PostgreSQL cluster for the integration tests, started once
//! per test binary from the machine's PostgreSQL binaries, and one fresh
//! database per test.
//!
//! - `JOBSCTL_TEST_PGHOST` (with optional `JOBSCTL_TEST_PGPORT`,
//!   `JOBSCTL_TEST_PGUSER`, `JOBSCTL_TEST_PGPASSWORD`) points the tests at a
//!   running server instead; it must allow creating databases.
//! - Otherwise the binaries are taken from `JOBSCTL_TEST_PGBIN` (a folder
//!   with `initdb` and `postgres`), else found with `pg_config --bindir`,
//!   then under `/usr/lib/postgresql/<highest version>/bin` (the last two
//!   through `jobsctl dev`'s own lookups). As root the server runs as the
//!   `postgres` user (PostgreSQL refuses to run as root).
//! - The server listens on a unix socket in a private folder and on
//!   127.0.0.1 at a free port (trust for the socket and for `postgres`,
//!   scram-sha-256 for other roles over TCP; `password_encryption` is
//!   scram-sha-256 on every major, PostgreSQL 13's md5 default included);
//!   it stops by itself within a second of the test binary exiting, and its
//!   folder is removed.
//! - TCP connections may use TLS (`ssl=on`, plain connections still
//!   accepted): the server's certificate is for `localhost` only, signed by
//!   a CA made at start whose certificate is `Server::tls_ca`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    /// The socket folder (or the host name for an external server).
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    /// The CA certificate (PEM file) that signed the server's TLS
    /// certificate (valid for `localhost`); `None` for an external server.
    pub tls_ca: Option<PathBuf>,
    /// Keeps the cluster's folder alive for the test binary's lifetime.
    _dir: Option<PathBuf>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

pub fn server() -> &'static Server {
    SERVER.get_or_init(|| external_server().unwrap_or_else(start_cluster))
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub name: String,
    server: &'static Server,
}

impl TestDb {
    /// A database name that no test has used yet; not created.
    pub fn unique_name(label: &str) -> String {
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let label: String = label
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(30)
            .collect();
        format!("t_{}_{}_{n}", std::process::id(), label)
    }

    /// Create a database named after the test.
    pub fn new(label: &str) -> TestDb {
        let server = server();
        let name = Self::unique_name(label);
        let mut admin = server.client("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the test database");
        TestDb { name, server }
    }

    /// A name for a database that does not exist yet (for `--createdb`).
    pub fn not_created(label: &str) -> TestDb {
        TestDb {
            name: Self::unique_name(label),
            server: server(),
        }
    }

    pub fn client(&self) -> postgres::Client {
        self.server.client(&self.name)
    }

    /// `PG*` variables that point libpq-style clients at this database.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.server.host.clone()),
            ("PGPORT", self.server.port.to_string()),
            ("PGUSER", self.server.user.clone()),
            ("PGDATABASE", self.name.clone()),
        ];
        if let Some(password) = &self.server.password {
            env.push(("PGPASSWORD", password.clone()));
        }
        env
    }

    /// A `postgres://` URL over TCP to this database.
    pub fn tcp_url(&self) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{}",
            self.server.user, self.server.port, self.name
        )
    }

    /// Run one query and return the first column of every row as text.
    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        self.client()
            .simple_query(sql)
            .expect(sql)
            .into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
                _ => None,
            })
            .collect()
    }

    /// The first column of the first row.
    pub fn value(&self, sql: &str) -> Option<String> {
        self.column(sql).into_iter().next().flatten()
    }
}

impl Server {
    pub fn client(&self, database: &str) -> postgres::Client {
        let mut config = postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(database);
        if let Some(password) = &self.password {
            config.password(password);
        }
        config
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {database}: {e}"))
    }
}

fn external_server() -> Option<Server> {
    let host = std::env::var("JOBSCTL_TEST_PGHOST").ok()?;
    let port = std::env::var("JOBSCTL_TEST_PGPORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432);
    let user = std::env::var("JOBSCTL_TEST_PGUSER").unwrap_or_else(|_| "postgres".into());
    let password = std::env::var("JOBSCTL_TEST_PGPASSWORD").ok();
    Some(Server {
        host,
        port,
        user,
        password,
        tls_ca: None,
        _dir: None,
    })
}

/// The folder of the server programs, in the order the module docs give.
/// `jobsctl dev` looks first at `JOBSCTL_PG_BINDIR` and `PATH`, the tests
/// at `JOBSCTL_TEST_PGBIN` alone (an explicit choice, never overridden by
/// PATH); after that both take `pg_config --bindir`, then Debian's newest.
fn bin_dir() -> PathBuf {
    // An explicit installation (scripts/pg-matrix.sh runs the suite against
    // each PostgreSQL major this way); never silently another one.
    if let Some(dir) = std::env::var_os("JOBSCTL_TEST_PGBIN") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").exists() && dir.join("postgres").exists(),
            "JOBSCTL_TEST_PGBIN={}: no initdb and postgres there",
            dir.display()
        );
        return dir;
    }
    // Then the folders `jobsctl dev` searches after its own variable and
    // PATH, found by the same code (jobsctl::dev), in the same order.
    if let Some(dir) = jobsctl::dev::pg_config_bindir().filter(|d| d.join("initdb").exists()) {
        return dir;
    }
    assert!(
        Path::new("/usr/lib/postgresql").is_dir(),
        "PostgreSQL server binaries (apt-get install postgresql), or JOBSCTL_TEST_PGHOST"
    );
    jobsctl::dev::debian_bindirs()
        .into_iter()
        .find(|bin| bin.join("initdb").exists())
        .expect("no PostgreSQL under /usr/lib/postgresql")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A command run as the server's user: `postgres` when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_cluster() -> Server {
    let bin = bin_dir();
    let dir = std::env::temp_dir().join(format!(
        "jobsctl-test-pg-{}-{}",
        std::process::id(),
        free_port()
    ));
    let (data, socket) = (dir.join("data"), dir.join("socket"));
    std::fs::create_dir_all(&socket).unwrap();
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown the cluster folder to postgres");
    }
    let init = as_server_user(&bin.join("initdb"))
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-D",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    // Trust the socket and the `postgres` user; every other role must give
    // its password over TCP, so that password sources can be tested.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();

    let tls_ca = write_tls_files(&dir, &data);

    let port = free_port();
    // password_encryption: the scram-sha-256 lines of pg_hba.conf refuse a
    // role whose password is stored as md5, which is PostgreSQL 13's default
    // (14 made scram-sha-256 the default); set on the command line so that
    // any server of any major works as it is.
    // The shell wrapper stops the server when this test binary exits (its
    // parent pid disappears), then removes the cluster's folder.
    let script = format!(
        "{postgres} -D {data} -p {port} -k {socket} -c listen_addresses=127.0.0.1 -c fsync=off \
         -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
         -c password_encryption=scram-sha-256 -c log_min_messages=fatal >{dir}/server.log 2>&1 & pid=$!; \
         while [ -d /proc/{parent} ] && kill -0 $pid 2>/dev/null; do sleep 0.5; done; \
         kill -INT $pid 2>/dev/null; wait $pid; rm -rf {dir}",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        socket = socket.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    let mut wrapper = if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", "sh", "-c", &script]);
        cmd
    } else {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]);
        cmd
    };
    wrapper
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The wrapper is a detached supervisor that outlives nothing but this
    // process: it is never waited for on purpose.
    #[allow(clippy::zombie_processes)]
    wrapper.spawn().expect("start postgres");

    let server = Server {
        host: socket.display().to_string(),
        port,
        user: "postgres".into(),
        password: None,
        tls_ca: Some(tls_ca),
        _dir: Some(dir.clone()),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut config = postgres::Config::new();
        config
            .host(&server.host)
            .port(port)
            .user("postgres")
            .dbname("postgres");
        if config.connect(postgres::NoTls).is_ok() {
            return server;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("the test cluster did not start in 30 s:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CA and a server certificate for `localhost` signed by it: the
/// server's pair goes into the data folder (owned by the server's user,
/// mode 0600, as PostgreSQL demands), the CA's certificate into `dir`.
/// Returns the CA certificate's path.
fn write_tls_files(dir: &Path, data: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "jobsctl test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let mut server_params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

    let ca_path = dir.join("ca.crt");
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    let (cert, key) = (data.join("server.crt"), data.join("server.key"));
    std::fs::write(&cert, server_cert.pem()).unwrap();
    std::fs::write(&key, server_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres:")
            .args([&cert, &key])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "chown the server's certificate and key to postgres"
        );
    }
    ca_path
}
