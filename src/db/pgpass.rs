//! The password file (`~/.pgpass` or `PGPASSFILE`/`passfile`), read the way
//! libpq reads it.
//!
//! - Lines are `host:port:database:user:password`; `#` starts a comment
//!   line; CRLF line ends are fine.
//! - A field that is exactly `*` matches anything; `\:` and `\\` stand for
//!   `:` and `\` (a backslash escapes any character); the password ends at
//!   the next unescaped `:`. The first matching line wins.
//! - For a unix socket the host field is `localhost` when the socket folder
//!   is a default one (`/var/run/postgresql`, `/tmp`), else the folder's
//!   path (libpq: `localhost` for its compiled-in socket folder only).
//! - Permissions (libpq's rule, kept): a file that is not a regular file,
//!   or that the group or others can access at all (any bit of 0077), is
//!   ignored with a warning on stderr, once per process and file; a
//!   connection that then fails for want of a password says so in its
//!   error. A file that does not exist is silently skipped; one that exists
//!   but cannot be read is an error (libpq skips it silently).

use super::DbError;
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// What the password file had to say for one host.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found(Vec<u8>),
    NoMatch,
    /// The file was ignored; the reason is a sentence for the user.
    Ignored(String),
}

/// Look up the password for `host:port:database:user` in the file at
/// `path`. `Ignored` files are also reported on stderr (once).
pub(crate) fn lookup(
    path: &Path,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<Lookup, DbError> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::NoMatch),
        Err(e) => return Err(unreadable(path, &e)),
    };
    if let Some(reason) = refusal(&metadata) {
        let reason = format!(
            "password file \"{}\" {reason}; it was ignored",
            path.display()
        );
        warn_once(path, &reason);
        return Ok(Lookup::Ignored(reason));
    }
    let contents = std::fs::read(path).map_err(|e| unreadable(path, &e))?;
    // The first matching line wins, even with an empty password (which
    // means none, as in libpq).
    Ok(match find(&contents, host, port, database, user) {
        Some(password) if !password.is_empty() => Lookup::Found(password),
        _ => Lookup::NoMatch,
    })
}

/// Why libpq would not use a file with this metadata, if it would not.
pub(crate) fn refusal(metadata: &std::fs::Metadata) -> Option<String> {
    if !metadata.is_file() {
        return Some("is not a plain file".to_owned());
    }
    let mode = metadata.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "has group or world access (mode {:04o}); permissions should be u=rw (0600) or less",
            mode & 0o7777
        )
    })
}

fn unreadable(path: &Path, error: &std::io::Error) -> DbError {
    DbError::PasswordFile {
        path: path.to_owned(),
        message: format!("cannot be read: {error}"),
    }
}

fn warn_once(path: &Path, reason: &str) {
    static WARNED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let mut warned = WARNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if warned.insert(path.to_owned()) {
        eprintln!("warning: {reason}");
    }
}

/// The password of the first line of `contents` that matches, if any.
pub(crate) fn find(
    contents: &[u8],
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<Vec<u8>> {
    let port = port.to_string();
    let wanted = [
        host.as_bytes(),
        port.as_bytes(),
        database.as_bytes(),
        user.as_bytes(),
    ];
    contents.split(|b| *b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b'#' {
            return None;
        }
        let mut rest = line;
        for want in wanted {
            let (field, after) = next_field(rest)?;
            if !field.matches(want) {
                return None;
            }
            rest = after;
        }
        Some(match next_field(rest) {
            Some((field, _)) => field.text,
            None => unescape_to_end(rest),
        })
    })
}

struct Field {
    /// The unescaped text.
    text: Vec<u8>,
    /// The field was a lone, unescaped `*`.
    wildcard: bool,
}

impl Field {
    fn matches(&self, value: &[u8]) -> bool {
        self.wildcard || self.text == value
    }
}

/// The field at the start of `line`, up to an unescaped `:`, and what
/// follows that `:`. `None` when there is no `:`.
fn next_field(line: &[u8]) -> Option<(Field, &[u8])> {
    let mut text = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'\\' if i + 1 < line.len() => {
                text.push(line[i + 1]);
                i += 2;
            }
            b':' => {
                let wildcard = &line[..i] == b"*";
                return Some((Field { text, wildcard }, &line[i + 1..]));
            }
            b => {
                text.push(b);
                i += 1;
            }
        }
    }
    None
}

fn unescape_to_end(rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == b'\\' && i + 1 < rest.len() {
            i += 1;
        }
        out.push(rest[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(contents: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
        find(contents.as_bytes(), host, port, db, user).map(|p| String::from_utf8(p).unwrap())
    }

    #[test]
    fn exact_and_wildcard_fields() {
        let file = "db.example.com:5432:app:alice:one\n*:*:*:bob:two\n";
        assert_eq!(
            pw(file, "db.example.com", 5432, "app", "alice").as_deref(),
            Some("one")
        );
        assert_eq!(pw(file, "db.example.com", 5433, "app", "alice"), None);
        assert_eq!(pw(file, "other", 1, "x", "bob").as_deref(), Some("two"));
        assert_eq!(pw(file, "other", 1, "x", "carol"), None);
    }

    #[test]
    fn first_match_wins() {
        let file = "h:5432:app:u:first\n*:*:*:*:second\n";
        assert_eq!(pw(file, "h", 5432, "app", "u").as_deref(), Some("first"));
        assert_eq!(pw(file, "h", 5432, "other", "u").as_deref(), Some("second"));
    }

    #[test]
    fn escapes() {
        let file = "h\\:x:5432:d\\\\b:u:pa\\:ss\\\\word\n";
        assert_eq!(
            pw(file, "h:x", 5432, "d\\b", "u").as_deref(),
            Some("pa:ss\\word")
        );
        // An escaped star is a literal star, not a wildcard.
        let file = "\\*:*:*:*:lit\n";
        assert_eq!(pw(file, "h", 5432, "d", "u"), None);
        assert_eq!(pw(file, "*", 5432, "d", "u").as_deref(), Some("lit"));
        // A star inside a field is literal too.
        assert_eq!(pw("h*:*:*:*:p\n", "hx", 1, "d", "u"), None);
    }

    #[test]
    fn password_ends_at_unescaped_colon() {
        assert_eq!(
            pw("*:*:*:*:pw:extra\n", "h", 1, "d", "u").as_deref(),
            Some("pw")
        );
        assert_eq!(pw("*:*:*:*:pw", "h", 1, "d", "u").as_deref(), Some("pw"));
    }

    #[test]
    fn comments_blank_lines_crlf_and_short_lines() {
        let file = "# *:*:*:*:commented\r\n\r\nh:5432:d\r\n*:*:*:*:crlf\r\n";
        assert_eq!(pw(file, "h", 5432, "d", "u").as_deref(), Some("crlf"));
        assert_eq!(pw("h:5432:d:u\n", "h", 5432, "d", "u"), None);
        assert_eq!(
            pw("*:*:*:*:\n*:*:*:*:next\n", "h", 1, "d", "u").as_deref(),
            Some("")
        );
    }

    #[test]
    fn non_utf8_passwords_are_bytes() {
        let mut file = b"*:*:*:*:".to_vec();
        file.extend([0xff, 0xfe, b'\n']);
        assert_eq!(find(&file, "h", 1, "d", "u"), Some(vec![0xff, 0xfe]));
    }

    #[test]
    fn permissions_are_checked_like_libpq() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        for (mode, ok) in [
            (0o600, true),
            (0o400, true),
            (0o640, false),
            (0o644, false),
            (0o601, false),
            (0o610, false),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let found = lookup(&path, "h", 5432, "d", "u").unwrap();
            if ok {
                assert_eq!(found, Lookup::Found(b"secret".to_vec()), "mode {mode:o}");
            } else {
                let Lookup::Ignored(reason) = found else {
                    panic!("mode {mode:o} not refused")
                };
                assert!(reason.contains("group or world access"), "{reason}");
                assert!(!reason.contains("secret"));
            }
        }
        // Not a plain file.
        let Lookup::Ignored(reason) = lookup(dir.path(), "h", 1, "d", "u").unwrap() else {
            panic!()
        };
        assert!(reason.contains("not a plain file"), "{reason}");
        // Missing: no password, no error.
        assert_eq!(
            lookup(&dir.path().join("nope"), "h", 1, "d", "u").unwrap(),
            Lookup::NoMatch
        );
    }
}
