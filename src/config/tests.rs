//! jobsctl.toml: parsing, expansion, targets, the worker section.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(PathBuf::from("/p/jobsctl.toml"), text.to_owned())
}

fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn expansion() {
    let e = env(&[("A", "x y"), ("EMPTY", "")]);
    assert_eq!(expand("a${A}b", &e).unwrap(), "ax yb");
    assert_eq!(expand("${EMPTY}", &e).unwrap(), "");
    assert_eq!(expand("$$ $x $", &e).unwrap(), "$ $x $");
    assert_eq!(expand("$${A}", &e).unwrap(), "${A}");
    assert_eq!(
        expand("${B}", &e).unwrap_err(),
        "environment variable B is not set"
    );
    assert!(expand("${A", &e).is_err());
    assert!(expand("${1A}", &e).is_err());
}

#[test]
fn url_targets_take_settings_as_query_parameters() {
    let config =
        parse("[targets.s]\nurl = \"postgres://app@db/app\"\npassword = \"${PW}\"\nport = 6432\n")
            .unwrap();
    let e = env(&[("PW", "p@ss/w:rd&")]);
    let TargetRef::Named(t) = config.target("s", &e).unwrap() else {
        panic!()
    };
    assert_eq!(
        t.conninfo,
        "postgres://app@db/app?password=p%40ss%2Fw%3Ard%26&port=6432"
    );
    assert_eq!(t.origin, "jobsctl.toml:2");
}

#[test]
fn settings_targets_are_quoted_conninfo() {
    let config =
        parse("[targets.l]\nhost = \"/run/pg\"\nuser = \"o'brien\"\ndbname = \"a b\"\n").unwrap();
    let TargetRef::Named(t) = config.target("l", &|_| None).unwrap() else {
        panic!()
    };
    assert_eq!(t.conninfo, r"dbname='a b' host='/run/pg' user='o\'brien'");
    let settings = crate::db::Settings::resolve(Some(&t.conninfo), &|_| None).unwrap();
    assert_eq!(settings.user(), "o'brien");
    assert_eq!(settings.database(), "a b");
}

#[test]
fn errors_name_the_line() {
    let err = parse("[defaults]\ntx = \"change\"\nlock_timout = 3\n").unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.message.contains("lock_timout"), "{err}");
    let err = parse("[defaults]\n\ntx = \"sometimes\"\n").unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let err = parse("[targets.a]\nurl = \"x\"\n\nhots = \"y\"\n").unwrap_err();
    assert_eq!(err.line, Some(4), "{err}");
    let err = parse("[defaults]\nworkspace = \n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse("[defaults]\ntarget = \"nope\"\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse("[targets.dev]\nurl = \"x\"\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse("[defaults]\nlock_timeout = -1\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
}

#[test]
fn worker_section() {
    use crate::worker::config::Handler;
    let config = parse(
        "[worker]\nconcurrency = 3\npoll_interval = 0.5\n\n[worker.tasks.mail]\nexec = [\"./send\", \"${ARG}\"]\ntimeout = 2\nmax_concurrency = 1\nenv = { A = \"b\" }\n\n[worker.tasks.hook]\nhttp = \"http://127.0.0.1:1/x\"\nsecret = \"${S}\"\n",
    )
    .unwrap();
    let w = config.worker(&env(&[("ARG", "-q"), ("S", "k")])).unwrap();
    assert_eq!(w.concurrency, Some(3));
    assert_eq!(w.poll_interval, Some(std::time::Duration::from_millis(500)));
    assert_eq!(w.tasks.len(), 2);
    let mail = w.tasks.iter().find(|t| t.name == "mail").unwrap();
    assert_eq!(
        mail.handler,
        Handler::Exec {
            argv: vec!["./send".into(), "-q".into()]
        }
    );
    assert_eq!(mail.max_concurrency, Some(1));
    assert_eq!(mail.env["A"], "b");
    let hook = w.tasks.iter().find(|t| t.name == "hook").unwrap();
    assert_eq!(hook.secret.as_deref(), Some("k"));

    let err = parse("[worker]\nconcurency = 3\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    let config = parse("[worker]\n\nconcurrency = 0\n").unwrap();
    assert_eq!(config.worker(&|_| None).unwrap_err().line, Some(3));
    let config = parse("[worker.tasks.x]\nhttp = \"http://a/\"\nnoop = true\n").unwrap();
    let err = config.worker(&|_| None).unwrap_err();
    assert!(err.message.contains("only one"), "{err}");
    let config = parse("[worker.tasks.x]\n\nhttp = \"${NOPE}\"\n").unwrap();
    let err = config.worker(&|_| None).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let config = parse("[worker]\nmetrics_addr = \"localhost\"\n").unwrap();
    assert_eq!(config.worker(&|_| None).unwrap_err().line, Some(2));
}

#[test]
fn a_missing_variable_names_itself_and_the_line() {
    let config = parse("[targets.s]\n\nurl = \"postgres://app:${APP_PASSWORD}@db/app\"\n").unwrap();
    let err = config.target("s", &|_| None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/p/jobsctl.toml:3: targets.s.url: environment variable APP_PASSWORD is not set"
    );
}
