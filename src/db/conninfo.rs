//! Connection strings as libpq reads them: `postgres[ql]://` URLs,
//! `key=value` conninfo strings and plain database names, turned into a
//! list of option assignments (later ones win); and the one place that
//! writes them ([`render`], [`render_url_query`]), so that what jobsctl
//! writes is what it reads back. Nothing here looks at the environment;
//! `settings.rs` does the precedence.

use std::fmt;

/// The connection options jobsctl understands, with libpq's names and
/// environment variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    Host,
    HostAddr,
    Port,
    User,
    Password,
    DbName,
    SslMode,
    SslRootCert,
    SslNegotiation,
    ApplicationName,
    FallbackApplicationName,
    ConnectTimeout,
    Options,
    PassFile,
    TargetSessionAttrs,
    ChannelBinding,
    Keepalives,
    KeepalivesIdle,
    KeepalivesInterval,
    KeepalivesCount,
    TcpUserTimeout,
}

impl Key {
    /// Every key with its libpq name and, where libpq has one, the
    /// environment variable that supplies it when the connection string
    /// does not.
    pub(crate) const ALL: [(Key, &'static str, Option<&'static str>); 21] = [
        (Key::Host, "host", Some("PGHOST")),
        (Key::HostAddr, "hostaddr", Some("PGHOSTADDR")),
        (Key::Port, "port", Some("PGPORT")),
        (Key::User, "user", Some("PGUSER")),
        (Key::Password, "password", Some("PGPASSWORD")),
        (Key::DbName, "dbname", Some("PGDATABASE")),
        (Key::SslMode, "sslmode", Some("PGSSLMODE")),
        (Key::SslRootCert, "sslrootcert", Some("PGSSLROOTCERT")),
        (
            Key::SslNegotiation,
            "sslnegotiation",
            Some("PGSSLNEGOTIATION"),
        ),
        (Key::ApplicationName, "application_name", Some("PGAPPNAME")),
        (
            Key::FallbackApplicationName,
            "fallback_application_name",
            None,
        ),
        (
            Key::ConnectTimeout,
            "connect_timeout",
            Some("PGCONNECT_TIMEOUT"),
        ),
        (Key::Options, "options", Some("PGOPTIONS")),
        (Key::PassFile, "passfile", Some("PGPASSFILE")),
        (
            Key::TargetSessionAttrs,
            "target_session_attrs",
            Some("PGTARGETSESSIONATTRS"),
        ),
        (
            Key::ChannelBinding,
            "channel_binding",
            Some("PGCHANNELBINDING"),
        ),
        (Key::Keepalives, "keepalives", None),
        (Key::KeepalivesIdle, "keepalives_idle", None),
        (Key::KeepalivesInterval, "keepalives_interval", None),
        (Key::KeepalivesCount, "keepalives_count", None),
        (Key::TcpUserTimeout, "tcp_user_timeout", None),
    ];

    pub(crate) fn name(self) -> &'static str {
        Key::ALL
            .iter()
            .find(|(k, _, _)| *k == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }

    /// The key called `name`; `Err` says why there is none.
    pub(crate) fn from_name(name: &str) -> Result<Key, String> {
        if let Some((key, _, _)) = Key::ALL.iter().find(|(_, n, _)| *n == name) {
            return Ok(*key);
        }
        if UNSUPPORTED.contains(&name) {
            Err(format!(
                "connection option \"{name}\" is not supported by jobsctl"
            ))
        } else {
            Err(format!("invalid connection option \"{name}\""))
        }
    }
}

/// libpq options that jobsctl knows but does not implement: refused with
/// a clear message rather than silently ignored.
const UNSUPPORTED: &[&str] = &[
    "service",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
    "requirepeer",
    "require_auth",
    "gssencmode",
    "gsslib",
    "gssdelegation",
    "krbsrvname",
    "replication",
    "load_balance_hosts",
    "client_encoding",
    "min_protocol_version",
    "max_protocol_version",
    "scram_client_key",
    "scram_server_key",
    "oauth_issuer",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
];

/// The libpq names of every key, in the order of [`Key::ALL`].
pub(crate) const NAMES: [&str; Key::ALL.len()] = {
    let mut names = [""; Key::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Key::ALL[i].1;
        i += 1;
    }
    names
};

/// One `key = value` of a connection string.
pub(crate) type Assignment = (Key, String);

/// The three shapes libpq accepts where a connection string is expected.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Url,
    Conninfo,
    DatabaseName,
}

/// libpq's rule: a `postgres[ql]://` prefix is a URL, anything with an `=`
/// is a conninfo string, anything else is a database name (as `psql -d`).
pub(crate) fn shape(text: &str) -> Shape {
    if url_prefix_len(text).is_some() {
        Shape::Url
    } else if text.contains('=') {
        Shape::Conninfo
    } else {
        Shape::DatabaseName
    }
}

/// Parse any of the three shapes. Errors never contain the text itself
/// (it may hold a password).
pub(crate) fn parse(text: &str) -> Result<Vec<Assignment>, String> {
    match shape(text) {
        Shape::Url => parse_url(text),
        Shape::Conninfo => parse_conninfo(text),
        Shape::DatabaseName => {
            if let Some(scheme_end) = text.find("://") {
                return Err(format!(
                    "unsupported URL scheme \"{}\": expected postgres:// or postgresql://",
                    &text[..scheme_end]
                ));
            }
            Ok(vec![(Key::DbName, text.to_owned())])
        }
    }
}

fn url_prefix_len(text: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .iter()
        .find(|p| text.starts_with(**p))
        .map(|p| p.len())
}

/// A `postgres[ql]://[user[:password]@][host][:port][,host[:port]...][/dbname][?k=v&...]`
/// URL, with libpq's grammar: the userinfo ends at the first `@` before any
/// `/`; IPv6 hosts are bracketed; hosts, ports, the database name and the
/// query parameters are percent-decoded; query parameters override the
/// parts before them.
pub(crate) fn parse_url(text: &str) -> Result<Vec<Assignment>, String> {
    let start = url_prefix_len(text).ok_or("a URL must start with postgres:// or postgresql://")?;
    let rest = &text[start..];
    let mut out = Vec::new();

    // Userinfo: up to the first '@' that comes before any '/'.
    let stop = rest.find(['@', '/']);
    let rest = match stop {
        Some(at) if rest.as_bytes()[at] == b'@' => {
            let userinfo = &rest[..at];
            let (user, password) = match userinfo.find(':') {
                Some(colon) => (&userinfo[..colon], Some(&userinfo[colon + 1..])),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.push((Key::User, decode_text(user, "the user name")?));
            }
            if let Some(password) = password.filter(|p| !p.is_empty()) {
                let bytes = decode(password).map_err(|e| format!("{e} in the password"))?;
                let password = String::from_utf8(bytes).map_err(|_| {
                    "the password is not valid UTF-8 once percent-decoded".to_owned()
                })?;
                out.push((Key::Password, password));
            }
            &rest[at + 1..]
        }
        _ => rest,
    };

    // Hosts and ports, separated by commas, up to '/' or '?'.
    let netloc_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (netloc, rest) = rest.split_at(netloc_end);
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for entry in split_netloc(netloc)? {
        let (host, port) = entry;
        hosts.push(if host.is_empty() {
            String::new()
        } else {
            decode_text(host, "a host name")?
        });
        ports.push(decode_text(port, "a port")?);
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        out.push((Key::Host, hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        out.push((Key::Port, ports.join(",")));
    }

    // Database name, then the query.
    let (path, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    if let Some(dbname) = path.strip_prefix('/').filter(|d| !d.is_empty()) {
        out.push((Key::DbName, decode_text(dbname, "the database name")?));
    }
    if let Some(query) = query {
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').ok_or_else(|| {
                format!(
                    "URL query parameter without \"=\": \"{}\"",
                    printable(param)
                )
            })?;
            let name = decode_text(name, "a query parameter name")?;
            if value.contains('=') {
                return Err(format!(
                    "URL query parameter \"{name}\" has more than one \"=\""
                ));
            }
            // JDBC's spelling, which libpq accepts too.
            if name == "ssl" {
                if decode_text(value, "parameter \"ssl\"")? == "true" {
                    out.push((Key::SslMode, "require".to_owned()));
                    continue;
                }
                return Err("URL query parameter \"ssl\" only accepts \"true\"".to_owned());
            }
            let key = match Key::from_name(&name) {
                Ok(key) => key,
                Err(e) if e.contains("not supported") => return Err(e),
                Err(_) => return Err(format!("invalid URL query parameter \"{name}\"")),
            };
            let what = format!("parameter \"{name}\"");
            let value = if key == Key::Password {
                decode_text(value, "the password")?
            } else {
                decode_text(value, &what)?
            };
            out.push((key, value));
        }
    }
    Ok(out)
}

/// `host[:port]` entries separated by commas; `[v6]` hosts keep their
/// colons. Returns raw (still percent-encoded) text.
fn split_netloc(netloc: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut entries = Vec::new();
    let mut rest = netloc;
    loop {
        let (host, after_host) = if let Some(inner) = rest.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or("an IPv6 host address is missing its closing \"]\"")?;
            if close == 0 {
                return Err("an IPv6 host address in brackets may not be empty".to_owned());
            }
            let after = &inner[close + 1..];
            if !(after.is_empty() || after.starts_with([':', ','])) {
                return Err(format!(
                    "unexpected \"{}\" after the IPv6 host address [{}] (expected \":\", \",\", \"/\" or \"?\")",
                    after.chars().next().unwrap_or(' '),
                    &inner[..close]
                ));
            }
            (&inner[..close], after)
        } else {
            let end = rest.find([':', ',']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        let (port, after_port) = match after_host.strip_prefix(':') {
            Some(p) => {
                let end = p.find(',').unwrap_or(p.len());
                (&p[..end], &p[end..])
            }
            None => ("", after_host),
        };
        entries.push((host, port));
        match after_port.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Ok(entries),
        }
    }
}

/// Percent-decoding as libpq does it: `%XX` only (no `+` for space), `%00`
/// refused.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or("incomplete percent-encoding")?;
            let value = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("invalid percent-encoding")?;
            if value == 0 {
                return Err("forbidden percent-encoded NUL (%00)".to_owned());
            }
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_text(text: &str, what: &str) -> Result<String, String> {
    let bytes = decode(text).map_err(|e| format!("{e} in {what}"))?;
    String::from_utf8(bytes).map_err(|_| format!("{what} is not valid UTF-8 once percent-decoded"))
}

/// A query parameter for an error message, cut short and without the value
/// when it could be a password.
fn printable(param: &str) -> String {
    if param.to_ascii_lowercase().starts_with("password") {
        "password…".to_owned()
    } else {
        param.chars().take(40).collect()
    }
}

/// `key = value key2 = 'quoted \' value'`: whitespace around `=` allowed,
/// single quotes with `\'` and `\\` escapes, and backslash escapes in
/// unquoted values too.
pub(crate) fn parse_conninfo(text: &str) -> Result<Vec<Assignment>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            name.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!(
                "missing \"=\" after \"{name}\" in the connection string"
            ));
        }
        let key = Key::from_name(&name)?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "unterminated quoted value for \"{name}\" in the connection string"
                        ));
                    }
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// A conninfo string that [`parse_conninfo`] reads back as `options`:
/// `key='value'` separated by spaces, every value quoted. Holds the
/// password when `options` does: never print or log it.
pub(crate) fn render(options: &[(Key, &str)]) -> String {
    options
        .iter()
        .map(|(key, value)| format!("{}={}", key.name(), Quoted(value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `url` with `options` appended as query parameters (after a `?`, or an
/// `&` when `url` has a query already), values percent-encoded, so that
/// [`parse_url`] reads them back as given and after the URL's own parts
/// (they win). Holds the password when `url` or `options` does: never
/// print or log it.
pub(crate) fn render_url_query(url: &str, options: &[(Key, &str)]) -> String {
    let mut out = url.to_owned();
    for (i, (key, value)) in options.iter().enumerate() {
        let separator = if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        };
        out.push(separator);
        out.push_str(key.name());
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Percent-encode everything but RFC 3986's unreserved characters (the
/// inverse of [`decode`]).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Quote a value for a conninfo string (the inverse of `parse_conninfo`).
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        for c in self.0.chars() {
            if c == '\'' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("'")
    }
}

#[cfg(test)]
#[path = "conninfo_tests.rs"]
mod tests;
