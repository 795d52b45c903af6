use super::*;

fn get(list: &[Assignment], key: Key) -> Option<&str> {
    list.iter()
        .rev()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn shapes() {
    assert_eq!(shape("postgres://h/db"), Shape::Url);
    assert_eq!(shape("postgresql://"), Shape::Url);
    assert_eq!(shape("host=h"), Shape::Conninfo);
    assert_eq!(shape("app"), Shape::DatabaseName);
    assert_eq!(parse("app").unwrap(), vec![(Key::DbName, "app".to_owned())]);
    let err = parse("mysql://u:secret@h/db").unwrap_err();
    assert!(err.contains("unsupported URL scheme \"mysql\""), "{err}");
    assert!(!err.contains("secret"));
}

#[test]
fn full_url() {
    let list = parse_url(
        "postgresql://app:s3cr%40t@db.example.com:6543/my%20db?sslmode=verify-full&application_name=x%26y",
    )
    .unwrap();
    assert_eq!(get(&list, Key::User), Some("app"));
    assert_eq!(get(&list, Key::Password), Some("s3cr@t"));
    assert_eq!(get(&list, Key::Host), Some("db.example.com"));
    assert_eq!(get(&list, Key::Port), Some("6543"));
    assert_eq!(get(&list, Key::DbName), Some("my db"));
    assert_eq!(get(&list, Key::SslMode), Some("verify-full"));
    assert_eq!(get(&list, Key::ApplicationName), Some("x&y"));
}

#[test]
fn empty_url_parts_are_left_out() {
    assert!(parse_url("postgres://").unwrap().is_empty());
    assert!(parse_url("postgresql:///").unwrap().is_empty());
    let list = parse_url("postgres://:pw@/").unwrap();
    assert_eq!(list, vec![(Key::Password, "pw".to_owned())]);
    let list = parse_url("postgres://u@").unwrap();
    assert_eq!(list, vec![(Key::User, "u".to_owned())]);
}

#[test]
fn socket_hosts() {
    let list = parse_url("postgres://%2Fvar%2Frun%2Fpostgresql/app").unwrap();
    assert_eq!(get(&list, Key::Host), Some("/var/run/postgresql"));
    let list = parse_url("postgresql:///app?host=/tmp/sock%20dir&port=5433").unwrap();
    assert_eq!(get(&list, Key::Host), Some("/tmp/sock dir"));
    assert_eq!(get(&list, Key::Port), Some("5433"));
    assert_eq!(get(&list, Key::DbName), Some("app"));
}

#[test]
fn ipv6_and_multiple_hosts() {
    let list = parse_url("postgres://[::1]:5433/db").unwrap();
    assert_eq!(get(&list, Key::Host), Some("::1"));
    assert_eq!(get(&list, Key::Port), Some("5433"));
    let list = parse_url("postgres://u@h1:1,[fe80::1%25eth0],h3:3/db").unwrap();
    assert_eq!(get(&list, Key::Host), Some("h1,fe80::1%eth0,h3"));
    assert_eq!(get(&list, Key::Port), Some("1,,3"));
    let list = parse_url("postgres://h1,h2?dbname=x").unwrap();
    assert_eq!(get(&list, Key::Host), Some("h1,h2"));
    assert_eq!(get(&list, Key::Port), None);
    assert_eq!(get(&list, Key::DbName), Some("x"));
    assert!(
        parse_url("postgres://[::1/db")
            .unwrap_err()
            .contains("closing")
    );
    assert!(
        parse_url("postgres://[]/db")
            .unwrap_err()
            .contains("may not be empty")
    );
    assert!(
        parse_url("postgres://[::1]x/db")
            .unwrap_err()
            .contains("unexpected \"x\"")
    );
}

#[test]
fn query_parameters_override_and_are_checked() {
    let list = parse_url("postgres://u@h/db?user=v&dbname=other&ssl=true").unwrap();
    assert_eq!(get(&list, Key::User), Some("v"));
    assert_eq!(get(&list, Key::DbName), Some("other"));
    assert_eq!(get(&list, Key::SslMode), Some("require"));
    let err = parse_url("postgres://h/db?sslmod=require").unwrap_err();
    assert_eq!(err, "invalid URL query parameter \"sslmod\"");
    let err = parse_url("postgres://h/db?sslcert=x").unwrap_err();
    assert!(err.contains("\"sslcert\" is not supported"), "{err}");
    assert!(
        parse_url("postgres://h/db?sslmode")
            .unwrap_err()
            .contains("without \"=\"")
    );
    assert!(
        parse_url("postgres://h/db?a=b=c")
            .unwrap_err()
            .contains("more than one")
    );
    let err = parse_url("postgres://h/db?passwordsecret").unwrap_err();
    assert!(!err.contains("secret"), "{err}");
}

#[test]
fn percent_decoding() {
    assert_eq!(decode("a%20b%2fc+d").unwrap(), b"a b/c+d");
    assert_eq!(decode("%C3%A9").unwrap(), "é".as_bytes());
    assert!(decode("%zz").is_err());
    assert!(decode("%4").is_err());
    assert!(decode("%00").unwrap_err().contains("NUL"));
    let err = parse_url("postgres://u:se%ZZcret@h/db").unwrap_err();
    assert_eq!(err, "invalid percent-encoding in the password");
    assert!(
        parse_url("postgres://h/d%FFb")
            .unwrap_err()
            .contains("UTF-8")
    );
}

#[test]
fn userinfo_ends_at_first_at_sign_before_slash() {
    // As libpq: an '@' in a password must be percent-encoded.
    let list = parse_url("postgres://u:p@ss@h/db").unwrap();
    assert_eq!(get(&list, Key::User), Some("u"));
    assert_eq!(get(&list, Key::Password), Some("p"));
    assert_eq!(get(&list, Key::Host), Some("ss@h"));
    let list = parse_url("postgres://h/db@x").unwrap();
    assert_eq!(get(&list, Key::User), None);
    assert_eq!(get(&list, Key::DbName), Some("db@x"));
    let list = parse_url("postgres://u:a:b@h").unwrap();
    assert_eq!(get(&list, Key::Password), Some("a:b"));
}

#[test]
fn conninfo() {
    let list = parse_conninfo(
        "host=/tmp  port = 5433 dbname='my \\' db' user=a\\ b password='' options='-c x=1'",
    )
    .unwrap();
    assert_eq!(get(&list, Key::Host), Some("/tmp"));
    assert_eq!(get(&list, Key::Port), Some("5433"));
    assert_eq!(get(&list, Key::DbName), Some("my ' db"));
    assert_eq!(get(&list, Key::User), Some("a b"));
    assert_eq!(get(&list, Key::Password), Some(""));
    assert_eq!(get(&list, Key::Options), Some("-c x=1"));
    let list = parse_conninfo("host=a host=b").unwrap();
    assert_eq!(get(&list, Key::Host), Some("b"));
    assert_eq!(parse_conninfo("  ").unwrap(), vec![]);
    assert_eq!(
        parse_conninfo("dbname='a\\\\b'").unwrap(),
        vec![(Key::DbName, "a\\b".to_owned())]
    );
}

#[test]
fn conninfo_errors() {
    assert_eq!(
        parse_conninfo("host=h bogus=1").unwrap_err(),
        "invalid connection option \"bogus\""
    );
    assert_eq!(
        parse_conninfo("host").unwrap_err(),
        "missing \"=\" after \"host\" in the connection string"
    );
    let err = parse_conninfo("password='secret").unwrap_err();
    assert!(err.contains("unterminated"), "{err}");
    assert!(!err.contains("secret"));
    assert!(
        parse_conninfo("service=x")
            .unwrap_err()
            .contains("not supported")
    );
}

#[test]
fn quoting_round_trips() {
    for value in ["", "a b", "it's", "back\\slash", "é ü"] {
        let text = format!("dbname={}", Quoted(value));
        assert_eq!(
            parse_conninfo(&text).unwrap(),
            vec![(Key::DbName, value.to_owned())]
        );
    }
}

#[test]
fn every_key_has_a_name() {
    for (key, name, _) in Key::ALL {
        assert_eq!(Key::from_name(name), Ok(key));
        assert_eq!(key.name(), name);
    }
}

#[test]
fn rendered_strings_read_back_as_given() {
    let options = [
        (Key::Host, "/tmp/it's here"),
        (Key::Password, "p@ss/w:rd&'\\ é"),
        (Key::DbName, "a b"),
    ];
    let expected: Vec<Assignment> = options.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    assert_eq!(parse(&render(&options)).unwrap(), expected);
    let url = render_url_query("postgres://u@h/db", &options);
    assert!(url.starts_with("postgres://u@h/db?host="), "{url}");
    assert_eq!(parse(&url).unwrap()[3..], expected[..]);
    assert_eq!(
        render_url_query("postgres://h/db?sslmode=require", &[(Key::Port, "1")]),
        "postgres://h/db?sslmode=require&port=1"
    );
}

#[test]
fn names_follow_the_keys() {
    let names: Vec<&str> = Key::ALL.iter().map(|(_, name, _)| *name).collect();
    assert_eq!(NAMES[..], names[..]);
}
