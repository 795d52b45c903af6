use super::*;

const SECRET: &str = "s3cr3t-pa55";

fn resolve_with(
    url: Option<&str>,
    vars: &[(&str, &str)],
    account: Option<(&str, &str)>,
) -> Result<Settings, DbError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |name: &str| vars.get(name).cloned();
    let account = account.map(|(n, h)| (n.to_owned(), Some(PathBuf::from(h))));
    let account = move || account.clone();
    Settings::resolve_on(
        url,
        &Machine {
            env: &env,
            account: &account,
            socket_dir: &|port| PathBuf::from(format!("/sock{port}")),
        },
    )
}

fn resolve(url: Option<&str>, vars: &[(&str, &str)]) -> Settings {
    resolve_with(url, vars, Some(("osuser", "/home/osuser"))).unwrap()
}

fn error(url: Option<&str>, vars: &[(&str, &str)]) -> String {
    resolve_with(url, vars, Some(("osuser", "/home/osuser")))
        .unwrap_err()
        .to_string()
}

fn unix(dir: &str, port: u16) -> Endpoint {
    Endpoint {
        host: Host::Unix(PathBuf::from(dir)),
        hostaddr: None,
        port,
    }
}

fn tcp(name: &str, port: u16) -> Endpoint {
    Endpoint {
        host: Host::Tcp(name.to_owned()),
        hostaddr: None,
        port,
    }
}

#[test]
fn libpq_defaults() {
    let s = resolve(None, &[]);
    assert_eq!(s.endpoints, vec![unix("/sock5432", 5432)]);
    assert_eq!(s.user, "osuser");
    assert_eq!(s.database(), "osuser");
    assert_eq!(s.password, None);
    assert_eq!(s.ssl_mode, SslMode::Prefer);
    assert_eq!(
        s.ssl_root_cert,
        RootCert::Default(Some(PathBuf::from("/home/osuser/.postgresql/root.crt")))
    );
    assert_eq!(s.passfile, Some(PathBuf::from("/home/osuser/.pgpass")));
    assert_eq!(s.application_name, "jobsctl");
    assert_eq!(s.connect_timeout, None);
    assert_eq!(s.options, None);
    assert_eq!(s.session_attrs, SessionAttrs::Any);
    assert_eq!(s.channel_binding, ChannelBinding::Prefer);
    assert!(s.keepalives.is_some());
    assert!(!s.ssl_direct);
    assert_eq!(s.describe(), "osuser@/sock5432:5432/osuser");
}

#[test]
fn home_variable_beats_the_password_database() {
    let s = resolve(None, &[("HOME", "/elsewhere")]);
    assert_eq!(s.passfile, Some(PathBuf::from("/elsewhere/.pgpass")));
    assert_eq!(
        s.ssl_root_cert,
        RootCert::Default(Some(PathBuf::from("/elsewhere/.postgresql/root.crt")))
    );
}

#[test]
fn without_any_user_name_it_says_what_to_set() {
    let err = resolve_with(None, &[], None).unwrap_err();
    assert!(err.to_string().contains("set PGUSER"), "{err}");
    assert!(err.is_configuration());
    let s = resolve_with(None, &[("PGUSER", "u")], None).unwrap();
    assert_eq!((s.user(), s.database()), ("u", "u"));
    assert_eq!(s.passfile, None);
    assert_eq!(s.ssl_root_cert, RootCert::Default(None));
}

#[test]
fn pg_variables_fill_everything() {
    let s = resolve(
        None,
        &[
            ("PGHOST", "db.example.com"),
            ("PGPORT", "6543"),
            ("PGUSER", "app"),
            ("PGPASSWORD", SECRET),
            ("PGDATABASE", "appdb"),
            ("PGSSLMODE", "require"),
            ("PGSSLROOTCERT", "/certs/ca.pem"),
            ("PGAPPNAME", "deployer"),
            ("PGCONNECT_TIMEOUT", "7"),
            ("PGOPTIONS", "-c search_path=x"),
            ("PGPASSFILE", "/secrets/pgpass"),
            ("PGTARGETSESSIONATTRS", "read-write"),
            ("PGCHANNELBINDING", "require"),
        ],
    );
    assert_eq!(s.endpoints, vec![tcp("db.example.com", 6543)]);
    assert_eq!(s.user, "app");
    assert_eq!(s.password, Some(Password(SECRET.as_bytes().to_vec())));
    assert_eq!(s.dbname, "appdb");
    assert_eq!(s.ssl_mode, SslMode::Require);
    assert_eq!(
        s.ssl_root_cert,
        RootCert::File(PathBuf::from("/certs/ca.pem"))
    );
    assert_eq!(s.application_name, "deployer");
    assert_eq!(s.connect_timeout, Some(Duration::from_secs(7)));
    assert_eq!(s.options.as_deref(), Some("-c search_path=x"));
    assert_eq!(s.passfile, Some(PathBuf::from("/secrets/pgpass")));
    assert_eq!(s.session_attrs, SessionAttrs::ReadWrite);
    assert_eq!(s.channel_binding, ChannelBinding::Require);
    assert_eq!(
        s.describe(),
        "app@db.example.com:6543/appdb (sslmode=require)"
    );
}

#[test]
fn url_wins_and_variables_fill_the_gaps() {
    let vars = [
        ("PGHOST", "envhost"),
        ("PGPORT", "7000"),
        ("PGUSER", "envuser"),
        ("PGPASSWORD", "envpass"),
        ("PGDATABASE", "envdb"),
        ("PGSSLMODE", "disable"),
    ];
    let s = resolve(
        Some("postgres://urluser@urlhost/urldb?sslmode=verify-full"),
        &vars,
    );
    assert_eq!(s.endpoints, vec![tcp("urlhost", 7000)]);
    assert_eq!(s.user, "urluser");
    assert_eq!(s.password, Some(Password(b"envpass".to_vec())));
    assert_eq!(s.dbname, "urldb");
    assert_eq!(s.ssl_mode, SslMode::VerifyFull);
    let s = resolve(Some("postgres://"), &vars);
    assert_eq!(s.endpoints, vec![tcp("envhost", 7000)]);
    assert_eq!((s.user.as_str(), s.dbname.as_str()), ("envuser", "envdb"));
}

#[test]
fn argument_beats_database_url_which_beats_variables() {
    let vars = [
        (
            "DATABASE_URL",
            "postgres://dburluser:dburlpass@dburlhost:1111/dburldb",
        ),
        ("PGHOST", "envhost"),
        ("PGDATABASE", "envdb"),
    ];
    // DATABASE_URL is used whole when no argument is given ...
    let s = resolve(None, &vars);
    assert_eq!(s.endpoints, vec![tcp("dburlhost", 1111)]);
    assert_eq!(s.user, "dburluser");
    assert_eq!(s.password, Some(Password(b"dburlpass".to_vec())));
    assert_eq!(s.dbname, "dburldb");
    // ... and ignored whole when one is: nothing of it mixes in.
    let s = resolve(Some("postgres://arguser@arghost"), &vars);
    assert_eq!(s.endpoints, vec![tcp("arghost", 5432)]);
    assert_eq!(s.user, "arguser");
    assert_eq!(s.password, None);
    assert_eq!(s.dbname, "envdb");
    // An empty argument or DATABASE_URL counts as none.
    assert_eq!(resolve(Some(""), &vars).dbname, "dburldb");
    let s = resolve(None, &[("DATABASE_URL", ""), ("PGDATABASE", "envdb")]);
    assert_eq!(s.dbname, "envdb");
}

#[test]
fn database_url_may_be_conninfo_or_a_name() {
    let s = resolve(None, &[("DATABASE_URL", "host=h dbname=d")]);
    assert_eq!(
        (s.endpoints[0].clone(), s.dbname.as_str()),
        (tcp("h", 5432), "d")
    );
    let s = resolve(None, &[("DATABASE_URL", "justadb")]);
    assert_eq!(s.dbname, "justadb");
}

#[test]
fn conninfo_argument() {
    let s = resolve(
        Some("host=/run/pg port=5433 user='my user' dbname='my db' application_name=x"),
        &[("PGHOST", "ignored"), ("PGPASSWORD", "frompg")],
    );
    assert_eq!(s.endpoints, vec![unix("/run/pg", 5433)]);
    assert_eq!(s.user, "my user");
    assert_eq!(s.dbname, "my db");
    assert_eq!(s.application_name, "x");
    assert_eq!(s.password, Some(Password(b"frompg".to_vec())));
    assert_eq!(s.describe(), "my user@/run/pg:5433/my db");
}

#[test]
fn bare_name_is_a_database() {
    let s = resolve(Some("appdb"), &[("PGDATABASE", "other")]);
    assert_eq!(s.dbname, "appdb");
    assert_eq!(s.user, "osuser");
}

#[test]
fn empty_values_mean_the_default() {
    let s = resolve(None, &[("PGHOST", ""), ("PGPORT", ""), ("PGSSLMODE", "")]);
    assert_eq!(s.endpoints, vec![unix("/sock5432", 5432)]);
    assert_eq!(s.ssl_mode, SslMode::Prefer);
    // An explicitly empty option is set: the variable does not replace it.
    let s = resolve(Some("host='' dbname=x"), &[("PGHOST", "envhost")]);
    assert_eq!(s.endpoints, vec![unix("/sock5432", 5432)]);
}

#[test]
fn socket_hosts() {
    let s = resolve(Some("postgres://%2Fvar%2Frun%2Fpostgresql:5433/app"), &[]);
    assert_eq!(s.endpoints, vec![unix("/var/run/postgresql", 5433)]);
    assert_eq!(s.describe(), "osuser@/var/run/postgresql:5433/app");
    let s = resolve(
        Some("postgresql:///app?host=/tmp/x"),
        &[("PGHOST", "envhost")],
    );
    assert_eq!(s.endpoints, vec![unix("/tmp/x", 5432)]);
    // The default folder gets the port's socket.
    let s = resolve(Some("postgresql://:6000/app"), &[]);
    assert_eq!(s.endpoints, vec![unix("/sock6000", 6000)]);
}

#[test]
fn ipv6_hosts() {
    let s = resolve(Some("postgres://u@[::1]:5433/db?sslmode=require"), &[]);
    assert_eq!(s.endpoints, vec![tcp("::1", 5433)]);
    assert_eq!(s.describe(), "u@[::1]:5433/db (sslmode=require)");
    let s = resolve(Some("host=::1 user=u dbname=db"), &[]);
    assert_eq!(s.endpoints, vec![tcp("::1", 5432)]);
}

#[test]
fn multiple_hosts_and_ports() {
    let s = resolve(Some("postgres://u@h1:1,h2,[::1]:3/db"), &[]);
    assert_eq!(
        s.endpoints,
        vec![tcp("h1", 1), tcp("h2", 5432), tcp("::1", 3)]
    );
    assert_eq!(s.describe(), "u@h1:1,h2:5432,[::1]:3/db");
    // One port applies to every host.
    let s = resolve(Some("host=h1,/sock port=7"), &[]);
    assert_eq!(s.endpoints, vec![tcp("h1", 7), unix("/sock", 7)]);
    let s = resolve(None, &[("PGHOST", "a,b"), ("PGPORT", "1,2")]);
    assert_eq!(s.endpoints, vec![tcp("a", 1), tcp("b", 2)]);
    // An empty entry is the default socket.
    let s = resolve(Some("host=,h port=9"), &[]);
    assert_eq!(s.endpoints, vec![unix("/sock9", 9), tcp("h", 9)]);
    let err = error(Some("host=a,b,c port=1,2"), &[]);
    assert_eq!(
        err,
        "connection string: could not match 2 port numbers to 3 hosts"
    );
}

#[test]
fn hostaddr() {
    let s = resolve(Some("host=db.example.com hostaddr=10.1.2.3"), &[]);
    assert_eq!(s.endpoints[0].host, Host::Tcp("db.example.com".into()));
    assert_eq!(s.endpoints[0].hostaddr, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(s.describe(), "osuser@db.example.com (10.1.2.3):5432/osuser");
    let s = resolve(Some("hostaddr=::1"), &[]);
    assert_eq!(s.endpoints[0].host, Host::Tcp("::1".into()));
    assert_eq!(s.describe(), "osuser@[::1]:5432/osuser");
    assert_eq!(
        error(Some("hostaddr=nope"), &[]),
        "connection string: invalid hostaddr \"nope\""
    );
    assert_eq!(
        error(Some("host=a,b hostaddr=1.1.1.1"), &[]),
        "connection string: could not match 2 host names to 1 hostaddr values"
    );
}

#[test]
fn ports_are_checked() {
    for bad in ["abc", "0", "70000", "-1"] {
        assert_eq!(
            error(None, &[("PGPORT", bad)]),
            format!("PGPORT: invalid port number: \"{bad}\"")
        );
    }
    assert_eq!(
        error(Some("postgres://h:x/db"), &[]),
        "connection string: invalid port number: \"x\""
    );
}

#[test]
fn ssl_modes() {
    for (text, mode) in [
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ] {
        assert_eq!(resolve(None, &[("PGSSLMODE", text)]).ssl_mode, mode);
        assert_eq!(mode.to_string(), text);
    }
    let err = error(Some("postgres://h/db?sslmode=verify_full"), &[]);
    assert!(
        err.starts_with("connection string: invalid sslmode value \"verify_full\" (expected one of: disable, allow"),
        "{err}"
    );
    assert!(error(None, &[("PGSSLMODE", "on")]).starts_with("PGSSLMODE: invalid sslmode"));
    assert_eq!(
        resolve(Some("postgres://h?ssl=true"), &[]).ssl_mode,
        SslMode::Require
    );
}

#[test]
fn system_roots_force_verify_full() {
    let s = resolve(Some("postgres://h/db?sslrootcert=system"), &[]);
    assert_eq!(s.ssl_root_cert, RootCert::System);
    assert_eq!(s.ssl_mode, SslMode::VerifyFull);
    let err = error(
        Some("postgres://h/db?sslrootcert=system&sslmode=verify-ca"),
        &[],
    );
    assert_eq!(
        err,
        "connection string: weak sslmode \"verify-ca\" may not be used with sslrootcert=system (use \"verify-full\")"
    );
    assert!(
        error(Some("sslrootcert=system"), &[("PGSSLMODE", "require")])
            .starts_with("PGSSLMODE: weak sslmode")
    );
}

#[test]
fn direct_ssl_negotiation_needs_a_strong_mode() {
    let s = resolve(Some("sslnegotiation=direct sslmode=require"), &[]);
    assert!(s.ssl_direct);
    assert!(error(Some("sslnegotiation=direct"), &[]).contains("weak sslmode \"prefer\""));
    assert!(error(Some("sslnegotiation=fast"), &[]).contains("invalid sslnegotiation value"));
}

#[test]
fn timeouts_and_keepalives() {
    let timeout = |v: &str| resolve(None, &[("PGCONNECT_TIMEOUT", v)]).connect_timeout;
    assert_eq!(timeout("0"), None);
    assert_eq!(timeout("-5"), None);
    assert_eq!(timeout("1"), Some(Duration::from_secs(2)));
    assert_eq!(timeout(" 30 "), Some(Duration::from_secs(30)));
    assert_eq!(
        error(None, &[("PGCONNECT_TIMEOUT", "soon")]),
        "PGCONNECT_TIMEOUT: invalid integer value \"soon\" for connection option \"connect_timeout\""
    );
    let s = resolve(Some("keepalives=0"), &[]);
    assert_eq!(s.keepalives, None);
    let s = resolve(
        Some("keepalives_idle=5 keepalives_interval=2 keepalives_count=3 tcp_user_timeout=1500"),
        &[],
    );
    assert_eq!(
        s.keepalives,
        Some(Keepalives {
            idle: Duration::from_secs(5),
            interval: Duration::from_secs(2),
            count: 3
        })
    );
    assert_eq!(s.tcp_user_timeout, Some(Duration::from_millis(1500)));
}

#[test]
fn application_name() {
    assert_eq!(resolve(None, &[]).application_name, "jobsctl");
    assert_eq!(
        resolve(None, &[("PGAPPNAME", "mine")]).application_name,
        "mine"
    );
    assert_eq!(
        resolve(Some("fallback_application_name=fb"), &[]).application_name,
        "fb"
    );
    assert_eq!(
        resolve(
            Some("fallback_application_name=fb"),
            &[("PGAPPNAME", "mine")]
        )
        .application_name,
        "mine"
    );
    assert_eq!(
        resolve(
            Some("postgres://h/d?application_name=url"),
            &[("PGAPPNAME", "mine")]
        )
        .application_name,
        "url"
    );
}

#[test]
fn session_attributes_and_channel_binding() {
    assert_eq!(
        resolve(Some("target_session_attrs=read-only"), &[]).session_attrs,
        SessionAttrs::ReadOnly
    );
    assert!(
        error(Some("target_session_attrs=primary"), &[])
            .contains("invalid target_session_attrs value")
    );
    assert_eq!(
        resolve(Some("channel_binding=disable"), &[]).channel_binding,
        ChannelBinding::Disable
    );
}

#[test]
fn unknown_and_unsupported_options_are_named() {
    assert_eq!(
        error(Some("postgres://h/db?colour=blue"), &[]),
        "connection string: invalid URL query parameter \"colour\""
    );
    assert_eq!(
        error(None, &[("DATABASE_URL", "host=h colour=blue")]),
        "DATABASE_URL: invalid connection option \"colour\""
    );
    assert_eq!(
        error(Some("sslcert=/x"), &[]),
        "connection string: connection option \"sslcert\" is not supported by jobsctl"
    );
}

#[test]
fn the_password_never_shows() {
    let url = format!("postgres://app:{SECRET}@db.example.com/app?sslmode=verify-full");
    let s = resolve(Some(&url), &[]);
    assert_eq!(s.password, Some(Password(SECRET.as_bytes().to_vec())));
    let debug = format!("{s:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert!(!format!("{:#?}", s.with_database("x")).contains(SECRET));
    assert_eq!(
        s.describe(),
        "app@db.example.com:5432/app (sslmode=verify-full)"
    );
    // Errors about a string holding a password do not repeat it.
    for bad in [
        format!("postgres://app:{SECRET}@h:bad/db"),
        format!("postgres://app:{SECRET}@h/db?nope=1"),
        format!("postgres://app:{SECRET}%zz@h/db"),
        format!("host=h password='{SECRET}"),
        format!("password={SECRET} port=x"),
        format!("mysql://app:{SECRET}@h/db"),
    ] {
        let err = error(Some(&bad), &[]);
        assert!(!err.contains(SECRET), "{err}");
        let err = error(None, &[("DATABASE_URL", &bad)]);
        assert!(
            !err.contains(SECRET) && err.starts_with("DATABASE_URL: "),
            "{err}"
        );
    }
}

#[test]
fn with_database_changes_only_the_database() {
    let s = resolve(Some("postgres://u:p@h:1/a?sslmode=require"), &[]);
    let t = s.with_database("postgres");
    assert_eq!(t.database(), "postgres");
    assert_eq!(s.database(), "a");
    assert_eq!(t.describe(), "u@h:1/postgres (sslmode=require)");
    assert_eq!(t.password, s.password);
}

#[test]
fn password_file_host_names() {
    assert_eq!(unix("/var/run/postgresql", 5432).pgpass_host(), "localhost");
    assert_eq!(unix("/tmp", 5432).pgpass_host(), "localhost");
    assert_eq!(unix("/srv/pg", 5432).pgpass_host(), "/srv/pg");
    assert_eq!(tcp("db", 5432).pgpass_host(), "db");
}

#[test]
fn default_socket_dir_is_a_usual_folder() {
    let dir = default_socket_dir(5432);
    assert!(
        DEFAULT_SOCKET_DIRS.iter().any(|d| Path::new(d) == dir),
        "{dir:?}"
    );
}

#[test]
fn the_os_account_is_found() {
    let (name, _) = os_account().expect("the current user is in the password database");
    assert!(!name.is_empty());
}

#[test]
fn libpq_env_round_trips_through_the_pg_variables() {
    let given = [
        ("PGHOST", "db1.example.com,/run/pg"),
        ("PGHOSTADDR", "10.0.0.1,"),
        ("PGPORT", "6543,5433"),
        ("PGUSER", "app"),
        ("PGPASSWORD", SECRET),
        ("PGDATABASE", "appdb"),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", "/certs/ca.pem"),
        ("PGAPPNAME", "deployer"),
        ("PGCONNECT_TIMEOUT", "7"),
        ("PGOPTIONS", "-c search_path=x"),
        ("PGPASSFILE", "/secrets/pgpass"),
        ("PGTARGETSESSIONATTRS", "read-only"),
        ("PGCHANNELBINDING", "require"),
    ];
    let s = resolve(None, &given);
    let env: Vec<(String, String)> = s
        .libpq_env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_string().unwrap()))
        .collect();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let again = resolve(None, &pairs);
    assert_eq!(again.endpoints, s.endpoints);
    assert_eq!(again.user, s.user);
    assert_eq!(again.password, s.password);
    assert_eq!(again.dbname, s.dbname);
    assert_eq!(again.ssl_mode, s.ssl_mode);
    assert_eq!(again.ssl_root_cert, s.ssl_root_cert);
    assert_eq!(again.application_name, s.application_name);
    assert_eq!(again.connect_timeout, s.connect_timeout);
    assert_eq!(again.options, s.options);
    assert_eq!(again.passfile, s.passfile);
    assert_eq!(again.session_attrs, s.session_attrs);
    assert_eq!(again.channel_binding, s.channel_binding);
}
