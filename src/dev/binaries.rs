//! Finding the machine's PostgreSQL programs: `JOBSCTL_PG_BINDIR`,
//! then a folder on `PATH` that has both `initdb` and `pg_ctl`, then
//! `pg_config --bindir`, then Debian's `/usr/lib/postgresql/<version>/bin`,
//! newest first. A cluster that exists already needs the major version
//! that created it (its `PG_VERSION` file).

use super::DevError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder with `initdb`, `pg_ctl` and `postgres`, and the version they are.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub dir: PathBuf,
    /// `postgres --version`'s version, e.g. `15.14`.
    pub version: String,
}

impl Binaries {
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The major version as PostgreSQL writes it to `PG_VERSION` (`15`,
    /// or `9.6` before version 10).
    pub fn major(&self) -> String {
        major_of(&self.version)
    }
}

fn major_of(version: &str) -> String {
    let digits = |s: &str| -> String { s.chars().take_while(char::is_ascii_digit).collect() };
    let mut parts = version.split('.');
    let first = digits(parts.next().unwrap_or_default());
    match first.parse::<u32>() {
        Ok(n) if n < 10 => format!("{first}.{}", digits(parts.next().unwrap_or("0"))),
        _ => first,
    }
}

fn usable(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| dir.join(p).is_file())
}

/// Every folder that may hold PostgreSQL programs, in the order of
/// preference: `JOBSCTL_PG_BINDIR`, the folders on `PATH`, `pg_config
/// --bindir`, Debian's `/usr/lib/postgresql/<version>/bin` newest first.
fn folders() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("JOBSCTL_PG_BINDIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.extend(pg_config_bindir());
    dirs.extend(debian_bindirs());
    dirs
}

/// What `pg_config --bindir` says, when `pg_config` runs and succeeds
/// (the folder may lack the server programs).
pub fn pg_config_bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Debian's `/usr/lib/postgresql/<version>/bin` folders, newest version
/// first (`<version>` is `15`, or `9.6` before version 10; other names are
/// skipped). The folders may lack the server programs.
pub fn debian_bindirs() -> Vec<PathBuf> {
    let mut debian: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version: Vec<u32> = name
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort();
    debian.into_iter().rev().map(|(_, dir)| dir).collect()
}

/// Every folder with the server programs, in the order of preference,
/// without duplicates.
fn candidates() -> Vec<PathBuf> {
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in folders().into_iter().filter(|d| usable(d)) {
        // A symlink farm (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb)
        // is the folder the real programs live in.
        let real = std::fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| usable(d))
            .unwrap_or(dir);
        if !unique.contains(&real) {
            unique.push(real);
        }
    }
    unique
}

/// A PostgreSQL client program (`psql`, `pg_dump`, ...) from the same
/// folders as the server programs: the program itself, symlinks resolved,
/// never a wrapper script such as Debian's `/usr/bin/psql` (a link to
/// `pg_wrapper`, a Perl script that picks a version first).
pub fn client_program(name: &str) -> Option<PathBuf> {
    folders()
        .into_iter()
        .filter_map(|dir| std::fs::canonicalize(dir.join(name)).ok())
        .find(|p| p.is_file() && p.file_name().is_some_and(|n| n == name))
}

fn version_of(dir: &Path) -> Option<String> {
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// The binaries to use: the first candidate, or for an existing cluster the
/// first of its major version.
pub fn find(major: Option<&str>) -> Result<Binaries, DevError> {
    let found: Vec<Binaries> = candidates()
        .into_iter()
        .filter_map(|dir| {
            let version = version_of(&dir)?;
            Some(Binaries { dir, version })
        })
        .collect();
    tracing::debug!(
        candidates = ?found.iter().map(|b| format!("{} ({})", b.dir.display(), b.version)).collect::<Vec<_>>(),
        "PostgreSQL server binaries found"
    );
    let chosen = match major {
        None => found.into_iter().next(),
        Some(major) => {
            let versions: Vec<String> = found.iter().map(|b| b.version.clone()).collect();
            match found.into_iter().find(|b| b.major() == major) {
                Some(b) => Some(b),
                None if !versions.is_empty() => {
                    return Err(DevError::Setup(format!(
                        "the dev cluster was created by PostgreSQL {major}, but only PostgreSQL {} is installed: \
                         install version {major}'s server (apt-get install postgresql-{major}), or delete the \
                         cluster's folder to start over",
                        versions.join(", ")
                    )));
                }
                None => None,
            }
        }
    };
    chosen.ok_or_else(|| {
        DevError::Setup(
            "no PostgreSQL server programs (initdb, pg_ctl, postgres) found on PATH, through \
             `pg_config --bindir` or in /usr/lib/postgresql/*/bin: install them (Debian: \
             apt-get install postgresql) or set JOBSCTL_PG_BINDIR"
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::major_of;

    #[test]
    fn major_versions() {
        assert_eq!(major_of("15.14"), "15");
        assert_eq!(major_of("17beta1"), "17");
        assert_eq!(major_of("9.6.24"), "9.6");
        assert_eq!(major_of("18"), "18");
    }
}
