//! `jobsctl::db` against the real throwaway cluster: every source of
//! connection settings, the password file, notices, application_name,
//! `--createdb`, several hosts, TLS modes and cancel requests.

mod common;

use common::pg::{TestDb, server};
use jobsctl::db::{CreateOutcome, DbError, NoticeHandler, Settings, create_database};
use postgres::error::SqlState;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// An environment with only `vars` and a private, empty HOME (so no
/// `~/.pgpass` or `~/.postgresql/root.crt` of the machine's user counts).
struct Env {
    home: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Env {
    fn new(vars: &[(&str, &str)]) -> Env {
        let home = tempfile::tempdir().unwrap();
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("HOME".into(), home.path().display().to_string());
        Env { home, vars: map }
    }

    fn with(mut self, name: &str, value: impl Into<String>) -> Env {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    fn resolve(&self, url: Option<&str>) -> Result<Settings, DbError> {
        Settings::resolve(url, &|name| self.vars.get(name).cloned())
    }

    fn settings(&self, url: Option<&str>) -> Settings {
        self.resolve(url).unwrap_or_else(|e| panic!("resolve: {e}"))
    }
}

fn query_one(client: &mut postgres::Client, sql: &str) -> String {
    client.query_one(sql, &[]).unwrap().get(0)
}

fn connect(settings: &Settings) -> postgres::Client {
    settings
        .connect(None)
        .unwrap_or_else(|e| panic!("connect to {}: {e}", settings.describe()))
}

/// A role that must log in with `password` over TCP.
fn password_role(label: &str, password: &str) -> String {
    let role = format!("pw_{}_{label}", std::process::id());
    let mut admin = server().client("postgres");
    let quoted = password.replace('\'', "''");
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{quoted}'"
        ))
        .unwrap();
    role
}

fn write_private(path: &Path, contents: &str, mode: u32) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The error of a connection that must fail.
fn refused(settings: &Settings) -> DbError {
    match settings.connect(None) {
        Ok(_) => panic!("{} accepted the connection", settings.describe()),
        Err(e) => e,
    }
}

fn uses_tls(client: &mut postgres::Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

/// A TCP port where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn url_over_tcp() {
    let db = TestDb::new("url_over_tcp");
    let env = Env::new(&[]);
    let settings = env.settings(Some(&db.tcp_url()));
    assert_eq!(settings.database(), db.name);
    let mut client = connect(&settings);
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
    assert_eq!(
        query_one(&mut client, "SELECT current_user::text"),
        "postgres"
    );
    assert_eq!(
        query_one(&mut client, "SELECT host(inet_server_addr())"),
        "127.0.0.1"
    );
}

#[test]
fn conninfo_over_the_unix_socket() {
    let db = TestDb::new("conninfo_socket");
    let s = server();
    let conninfo = format!(
        "host='{}' port={} user={} dbname='{}'",
        s.host, s.port, s.user, db.name
    );
    let settings = Env::new(&[]).settings(Some(&conninfo));
    assert_eq!(
        settings.describe(),
        format!("{}@{}:{}/{}", s.user, s.host, s.port, db.name)
    );
    let mut client = connect(&settings);
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
    let addr: Option<String> = client
        .query_one("SELECT host(inet_server_addr())", &[])
        .unwrap()
        .get(0);
    assert_eq!(addr, None, "a unix socket has no server address");
}

#[test]
fn url_with_percent_encoded_socket_host() {
    let db = TestDb::new("url_socket");
    let s = server();
    let url = format!(
        "postgresql://{}@{}:{}/{}",
        s.user,
        s.host.replace('/', "%2F"),
        s.port,
        db.name
    );
    let mut client = connect(&Env::new(&[]).settings(Some(&url)));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
}

#[test]
fn database_url_variable() {
    let db = TestDb::new("database_url");
    let env = Env::new(&[])
        .with("DATABASE_URL", db.tcp_url())
        .with("PGDATABASE", "nonexistent");
    let mut client = connect(&env.settings(None));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
}

#[test]
fn pg_variables() {
    let db = TestDb::new("pg_variables");
    let vars = db.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env = Env::new(&vars).with("PGAPPNAME", "from-pgappname");
    let mut client = connect(&env.settings(None));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
    assert_eq!(
        query_one(&mut client, "SELECT current_setting('application_name')"),
        "from-pgappname"
    );
}

#[test]
fn pg_variables_fill_what_the_url_leaves_out() {
    let db = TestDb::new("pg_fill");
    let s = server();
    // The URL names only the database; host, port and user come from PG*.
    let env = Env::new(&[])
        .with("PGHOST", "127.0.0.1")
        .with("PGPORT", s.port.to_string())
        .with("PGUSER", s.user.clone());
    let mut client = connect(&env.settings(Some(&format!("postgres:///{}", db.name))));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );
    assert_eq!(
        query_one(&mut client, "SELECT host(inet_server_addr())"),
        "127.0.0.1"
    );
}

#[test]
fn application_name_is_jobsctl() {
    let db = TestDb::new("application_name");
    let mut client = connect(&Env::new(&[]).settings(Some(&db.tcp_url())));
    assert_eq!(
        query_one(&mut client, "SELECT current_setting('application_name')"),
        "jobsctl"
    );
}

#[test]
fn password_from_the_url_and_pgpassword() {
    let db = TestDb::new("password_sources");
    let password = "p@ss:wörd/?#";
    let role = password_role("sources", password);
    let port = server().port;
    let encoded: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!("postgres://{role}:{encoded}@127.0.0.1:{port}/{}", db.name);
    let mut client = connect(&Env::new(&[]).settings(Some(&url)));
    assert_eq!(query_one(&mut client, "SELECT current_user::text"), role);

    let url = format!("postgres://{role}@127.0.0.1:{port}/{}", db.name);
    let env = Env::new(&[]).with("PGPASSWORD", password);
    let mut client = connect(&env.settings(Some(&url)));
    assert_eq!(query_one(&mut client, "SELECT current_user::text"), role);

    // A wrong password: 28P01, and the password is not in the message.
    let env = Env::new(&[]).with("PGPASSWORD", "wrong-secret-xyz");
    let err = refused(&env.settings(Some(&url)));
    assert_eq!(err.sqlstate(), Some(SqlState::INVALID_PASSWORD.code()));
    assert!(err.is_configuration());
    let text = err.to_string();
    assert!(!text.contains("wrong-secret-xyz"), "{text}");
    assert!(
        text.contains(&format!(
            "could not connect to {role}@127.0.0.1:{port}/{}",
            db.name
        )),
        "{text}"
    );
    assert!(text.contains("password authentication failed"), "{text}");
}

#[test]
fn password_from_the_password_file() {
    let db = TestDb::new("pgpass");
    let password = "pa:ss\\wd";
    let role = password_role("pgpass", password);
    let port = server().port;
    let env = Env::new(&[]);
    let escaped = password.replace('\\', "\\\\").replace(':', "\\:");
    write_private(
        &env.home.path().join(".pgpass"),
        &format!(
            "# jobsctl test\n127.0.0.1:{port}:{}:{role}:{escaped}\n*:*:*:{role}:not-this-one\n",
            db.name
        ),
        0o600,
    );
    let url = format!("postgres://{role}@127.0.0.1:{port}/{}", db.name);
    let mut client = connect(&env.settings(Some(&url)));
    assert_eq!(query_one(&mut client, "SELECT current_user::text"), role);

    // PGPASSFILE names another file; a wrong password from it is reported
    // with the file's name.
    let other = env.home.path().join("other-pgpass");
    write_private(&other, "*:*:*:*:wrong-from-file\n", 0o600);
    let env = env.with("PGPASSFILE", other.display().to_string());
    let err = refused(&env.settings(Some(&url)));
    assert_eq!(err.sqlstate(), Some(SqlState::INVALID_PASSWORD.code()));
    let text = err.to_string();
    assert!(text.contains("password retrieved from file"), "{text}");
    assert!(!text.contains("wrong-from-file"), "{text}");
}

#[test]
fn password_file_readable_by_others_is_ignored() {
    let db = TestDb::new("pgpass_0644");
    let password = "group-readable-secret";
    let role = password_role("pgpass0644", password);
    let port = server().port;
    let env = Env::new(&[]);
    let path = env.home.path().join(".pgpass");
    write_private(&path, &format!("*:*:*:{role}:{password}\n"), 0o644);
    let url = format!("postgres://{role}@127.0.0.1:{port}/{}", db.name);
    let err = refused(&env.settings(Some(&url)));
    let text = err.to_string();
    assert!(err.is_configuration());
    assert!(text.contains("group or world access"), "{text}");
    assert!(text.contains("it was ignored"), "{text}");
    assert!(!text.contains(password), "{text}");
    // The same file with 0600 works.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut client = connect(&env.settings(Some(&url)));
    assert_eq!(query_one(&mut client, "SELECT current_user::text"), role);
}

#[test]
fn password_file_that_is_a_folder_is_ignored() {
    let db = TestDb::new("pgpass_dir");
    let env = Env::new(&[]);
    // A folder cannot be read as a file, even by root.
    let path = env.home.path().join("pgpass-folder");
    std::fs::create_dir(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    let env = env.with("PGPASSFILE", path.display().to_string());
    // A folder is "not a plain file": ignored, like libpq, and the trusted
    // connection goes through.
    let mut client = connect(&env.settings(Some(&db.tcp_url())));
    assert_eq!(query_one(&mut client, "SELECT 'ok'::text"), "ok");
}

#[test]
fn notices_reach_the_handler() {
    let db = TestDb::new("notices");
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = seen.clone();
    let handler: NoticeHandler = Arc::new(move |notice| {
        sink.lock()
            .unwrap()
            .push((notice.severity().to_owned(), notice.message().to_owned()));
    });
    let mut client = Env::new(&[])
        .settings(Some(&db.tcp_url()))
        .connect(Some(handler))
        .unwrap();
    client
        .batch_execute("DO $$ BEGIN RAISE NOTICE 'héllo'; RAISE WARNING 'w'; END $$")
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("NOTICE".to_owned(), "héllo".to_owned()),
            ("WARNING".to_owned(), "w".to_owned())
        ]
    );
}

#[test]
fn missing_database_is_a_configuration_error_with_sqlstate() {
    let db = TestDb::not_created("missing");
    let err = refused(&Env::new(&[]).settings(Some(&db.tcp_url())));
    assert_eq!(err.sqlstate(), Some(SqlState::INVALID_CATALOG_NAME.code()));
    assert!(err.is_configuration());
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn several_hosts_are_tried_in_order() {
    let db = TestDb::new("multi_host");
    let s = server();
    let dead = closed_port();
    let url = format!(
        "postgres://{}@127.0.0.1:{dead},127.0.0.1:{}/{}",
        s.user, s.port, db.name
    );
    let mut client = connect(&Env::new(&[]).settings(Some(&url)));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );

    // A socket folder and a TCP host in one list.
    let conninfo = format!(
        "host=/nonexistent/folder,127.0.0.1 port={} user={} dbname={}",
        s.port, s.user, db.name
    );
    let mut client = connect(&Env::new(&[]).settings(Some(&conninfo)));
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        db.name
    );

    // When none answers, the error names each.
    let url = format!(
        "postgres://{}@127.0.0.1:{dead},[::1]:{dead}/{}",
        s.user, db.name
    );
    let err = refused(&Env::new(&[]).settings(Some(&url)));
    let text = err.to_string();
    assert!(err.is_configuration());
    assert!(text.contains(&format!("127.0.0.1:{dead}: ")), "{text}");
    assert!(text.contains(&format!("[::1]:{dead}: ")), "{text}");
}

#[test]
fn create_database_with_a_hostile_name() {
    let name = format!("we\"ird; DROP DATABASE postgres; -- {}", std::process::id());
    let env = Env::new(&[]);
    let base = env.settings(Some(&TestDb::new("createdb_base").tcp_url()));
    let settings = base.with_database(&name);
    assert_eq!(create_database(&settings).unwrap(), CreateOutcome::Created);
    assert_eq!(
        create_database(&settings).unwrap(),
        CreateOutcome::AlreadyExists
    );
    let mut admin = server().client("postgres");
    let names: Vec<String> = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'we\"ird%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(names.contains(&name), "{names:?}");
    let postgres_exists: bool = admin
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'postgres')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(postgres_exists);
    let mut client = connect(&settings);
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        name
    );
}

#[test]
fn create_database_with_unicode_quotes_and_spaces() {
    let name = format!("Jöbs 'n' \"quotes\" 名前 {}", std::process::id());
    let settings = Env::new(&[])
        .settings(Some(&TestDb::new("createdb_unicode").tcp_url()))
        .with_database(&name);
    assert_eq!(create_database(&settings).unwrap(), CreateOutcome::Created);
    let mut client = connect(&settings);
    assert_eq!(
        query_one(&mut client, "SELECT current_database()::text"),
        name
    );
    // Too long for PostgreSQL: refused before anything runs.
    let err = create_database(&settings.with_database(&"x".repeat(64))).unwrap_err();
    assert!(matches!(err, DbError::InvalidDatabaseName { .. }), "{err}");
}

#[test]
fn create_database_concurrently() {
    let db = TestDb::not_created("createdb_race");
    let settings = Env::new(&[]).settings(Some(&db.tcp_url()));
    let barrier = Arc::new(Barrier::new(8));
    let outcomes: Vec<CreateOutcome> = (0..8)
        .map(|_| {
            let (settings, barrier) = (settings.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                create_database(&settings)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("create_database: {e}"))
        })
        .collect();
    let created = outcomes
        .iter()
        .filter(|o| **o == CreateOutcome::Created)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert_eq!(
        db.value("SELECT current_database()::text").as_deref(),
        Some(db.name.as_str())
    );
}

// ---- TLS: the harness's server has a certificate for `localhost` signed
// by its own CA (`Server::tls_ca`); plain connections are accepted too.

fn tls_url(host: &str, db: &TestDb, params: &str) -> Option<String> {
    let s = server();
    if s.tls_ca.is_none() {
        eprintln!("skipped: the test server has no TLS");
        return None;
    }
    Some(format!(
        "postgres://{}@{host}:{}/{}?{params}",
        s.user, s.port, db.name
    ))
}

fn ca() -> String {
    server().tls_ca.as_ref().unwrap().display().to_string()
}

/// A CA that signed nothing the server has.
fn other_ca(dir: &Path) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let path = dir.join("other-ca.crt");
    std::fs::write(&path, params.self_signed(&key).unwrap().pem()).unwrap();
    path.display().to_string()
}

#[test]
fn tls_modes_without_verification() {
    let db = TestDb::new("tls_modes");
    let env = Env::new(&[]);
    for (mode, tls) in [
        ("disable", false),
        ("allow", false),
        ("prefer", true),
        ("require", true),
    ] {
        let Some(url) = tls_url("127.0.0.1", &db, &format!("sslmode={mode}")) else {
            return;
        };
        let mut client = connect(&env.settings(Some(&url)));
        assert_eq!(uses_tls(&mut client), tls, "sslmode={mode}");
    }
    // Unix sockets never use TLS, whatever the mode.
    let s = server();
    let conninfo = format!(
        "host={} port={} user={} dbname={} sslmode=require",
        s.host, s.port, s.user, db.name
    );
    let mut client = connect(&env.settings(Some(&conninfo)));
    assert!(!uses_tls(&mut client));
}

#[test]
fn verify_ca_checks_the_chain_but_not_the_name() {
    let db = TestDb::new("verify_ca");
    let env = Env::new(&[]);
    let Some(url) = tls_url(
        "127.0.0.1",
        &db,
        &format!("sslmode=verify-ca&sslrootcert={}", ca()),
    ) else {
        return;
    };
    let mut client = connect(&env.settings(Some(&url)));
    assert!(uses_tls(&mut client));

    let wrong = other_ca(env.home.path());
    let url = tls_url(
        "localhost",
        &db,
        &format!("sslmode=verify-ca&sslrootcert={wrong}"),
    )
    .unwrap();
    let err = refused(&env.settings(Some(&url)));
    assert!(err.is_configuration());
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("(sslmode=verify-ca)"), "{text}");

    // The default root file counts too, and a missing one is an error.
    let url = tls_url("127.0.0.1", &db, "sslmode=verify-ca").unwrap();
    let err = refused(&env.settings(Some(&url)));
    assert!(
        err.to_string().contains("root.crt\" does not exist"),
        "{err}"
    );
    std::fs::create_dir(env.home.path().join(".postgresql")).unwrap();
    std::fs::copy(ca(), env.home.path().join(".postgresql/root.crt")).unwrap();
    let mut client = connect(&env.settings(Some(&url)));
    assert!(uses_tls(&mut client));
}

#[test]
fn verify_full_checks_the_host_name() {
    let db = TestDb::new("verify_full");
    let env = Env::new(&[]);
    let params = format!("sslmode=verify-full&sslrootcert={}", ca());
    let Some(url) = tls_url("localhost", &db, &params) else {
        return;
    };
    let mut client = connect(&env.settings(Some(&url)));
    assert!(uses_tls(&mut client));

    // The certificate is for `localhost`, not for 127.0.0.1.
    let url = tls_url("127.0.0.1", &db, &params).unwrap();
    let err = refused(&env.settings(Some(&url)));
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("not valid for name"), "{text}");

    // The system's roots do not know the test CA.
    let url = tls_url("localhost", &db, "sslrootcert=system").unwrap();
    let settings = env.settings(Some(&url));
    assert!(settings.describe().ends_with("(sslmode=verify-full)"));
    refused(&settings);
}

#[test]
fn require_with_a_root_certificate_verifies_the_chain_like_libpq() {
    let db = TestDb::new("require_root");
    let env = Env::new(&[]);
    let wrong = other_ca(env.home.path());
    let Some(url) = tls_url(
        "127.0.0.1",
        &db,
        &format!("sslmode=require&sslrootcert={wrong}"),
    ) else {
        return;
    };
    refused(&env.settings(Some(&url)));
    let url = tls_url(
        "127.0.0.1",
        &db,
        &format!("sslmode=require&sslrootcert={}", ca()),
    )
    .unwrap();
    let mut client = connect(&env.settings(Some(&url)));
    assert!(uses_tls(&mut client));
    // prefer falls back to a plain session when the handshake fails.
    let url = tls_url(
        "127.0.0.1",
        &db,
        &format!("sslmode=prefer&sslrootcert={wrong}"),
    )
    .unwrap();
    let mut client = connect(&env.settings(Some(&url)));
    assert!(!uses_tls(&mut client));
}

#[test]
fn cancel_over_verified_tls() {
    let db = TestDb::new("cancel_tls");
    let env = Env::new(&[]);
    let Some(url) = tls_url(
        "localhost",
        &db,
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    ) else {
        return;
    };
    let settings = env.settings(Some(&url));
    let client = connect(&settings);
    let token = client.cancel_token();
    let marker = format!("cancel-me-{}", std::process::id());
    let sql = format!("SELECT pg_sleep(60) /* {marker} */");
    let running = std::thread::spawn(move || {
        let mut client = client;
        client.batch_execute(&sql)
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let like = format!("%{marker}%");
    loop {
        let active: i64 = server()
            .client("postgres")
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
                &[&like],
            )
            .unwrap()
            .get(0);
        if active > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    settings.cancel(&token).unwrap();
    let err = running.join().unwrap().unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
}

#[test]
fn from_env_with_a_full_url() {
    // Only what the URL leaves out could come from the process environment;
    // this URL leaves out nothing that matters here.
    let db = TestDb::new("from_env");
    let url = format!(
        "{}?sslmode=disable&application_name=from_env&passfile=/nonexistent&connect_timeout=10",
        db.tcp_url()
    );
    let settings = Settings::from_env(Some(&url)).unwrap();
    let mut client = connect(&settings);
    assert_eq!(
        query_one(&mut client, "SELECT current_setting('application_name')"),
        "from_env"
    );
}
