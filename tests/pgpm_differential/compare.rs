//! What is compared between two databases: the registry rows and the
//! schema outside `pgpm_migrate`, as text, with a line diff for failure
//! messages.

use crate::common::pg::TestDb;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// One line per deployed change: `package change script_hash change_id
/// [requires, sorted]`, sorted; timestamps left out.
pub fn registry(db: &TestDb) -> Vec<String> {
    let exists = db.value("SELECT to_regclass('pgpm_migrate.changes') IS NOT NULL");
    if exists.as_deref() != Some("t") {
        return Vec::new();
    }
    db.column(
        "SELECT c.package || ' ' || c.change_name || ' ' || c.script_hash || ' ' || c.change_id || ' [' || \
                coalesce((SELECT string_agg(d.requires, ', ' ORDER BY d.requires) \
                            FROM pgpm_migrate.dependencies d WHERE d.change_id = c.change_id), '') || ']' \
           FROM pgpm_migrate.changes c ORDER BY c.package, c.change_name",
    )
    .into_iter()
    .map(|row| row.unwrap_or_default())
    .collect()
}

/// The `pg_dump` to use: the test server's own bindir first (a client
/// older than the server refuses it), then `pg_config --bindir` (which
/// scripts/pg-matrix.sh points at a newer client), then the PATH, then the
/// newest under /usr/lib/postgresql.
pub fn pg_dump_program() -> &'static PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::var_os("JOBSCTL_TEST_PGBIN") {
            candidates.push(PathBuf::from(dir).join("pg_dump"));
        }
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
            && out.status.success()
        {
            candidates
                .push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("pg_dump"));
        }
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            candidates.push(PathBuf::from(dir).join("pg_dump"));
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                Some((
                    e.file_name().to_str()?.parse().ok()?,
                    e.path().join("bin/pg_dump"),
                ))
            })
            .collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev().map(|(_, p)| p));
        candidates
            .into_iter()
            .find(|p| p.is_file())
            .expect("no pg_dump: install PostgreSQL's client programs (apt-get install postgresql)")
    })
}

/// `pg_dump --schema-only` of everything but `pgpm_migrate`, with the lines
/// that differ between two identical databases (`\restrict` keys) left out.
/// With `without_extensions`, `CREATE EXTENSION` entries (and their
/// comments) are left out too: neither tool reverts a native extension.
pub fn schema_dump(db: &TestDb, without_extensions: bool) -> Vec<String> {
    let server = crate::common::pg::server();
    let mut cmd = Command::new(pg_dump_program());
    cmd.args([
        "--schema-only",
        "--exclude-schema=pgpm_migrate",
        "--no-sync",
    ])
    .arg("-h")
    .arg(&server.host)
    .arg("-p")
    .arg(server.port.to_string())
    .arg("-U")
    .arg(&server.user)
    .arg("-d")
    .arg(&db.name)
    .env_remove("PGSERVICE")
    .env("PGPASSFILE", "/nonexistent/jobsctl-test-pgpass");
    if let Some(password) = &server.password {
        cmd.env("PGPASSWORD", password);
    }
    let out = cmd.output().expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump {} failed: {}",
        db.name,
        String::from_utf8_lossy(&out.stderr)
    );
    normalize_dump(&String::from_utf8_lossy(&out.stdout), without_extensions)
}

fn normalize_dump(text: &str, without_extensions: bool) -> Vec<String> {
    // Entries start with a `-- Name: ...; Type: ...` comment block.
    let mut entries: Vec<Vec<&str>> = vec![Vec::new()];
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line == "--" && lines.get(i + 1).is_some_and(|l| l.starts_with("-- ")) {
            entries.push(Vec::new());
        }
        entries.last_mut().unwrap().push(line);
        i += 1;
    }
    let mut out = Vec::new();
    for entry in entries {
        let header = entry.get(1).copied().unwrap_or("");
        if without_extensions
            && header.starts_with("-- Name: ")
            && (header.contains("; Type: EXTENSION;") || header.starts_with("-- Name: EXTENSION "))
        {
            continue;
        }
        for line in entry {
            if line.starts_with("\\restrict ") || line.starts_with("\\unrestrict ") {
                continue;
            }
            if line.starts_with("-- Dumped ") {
                continue;
            }
            out.push(line.to_owned());
        }
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out
}

/// A line diff of `a` and `b` (`-` only in `a`, `+` only in `b`), with two
/// lines of context, at most `limit` lines; empty when equal.
pub fn diff(a: &[String], b: &[String], limit: usize) -> String {
    if a == b {
        return String::new();
    }
    // Longest common subsequence; dumps and registries are small.
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', &a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', &b[j]));
            j += 1;
        } else {
            ops.push(('-', &a[i]));
            i += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 2).min(ops.len() - 1);
        (lo..=hi).any(|x| ops[x].0 != ' ')
    };
    let mut out = String::new();
    let mut shown = 0;
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if !near_change(k) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("  ...\n");
            skipped = false;
        }
        if shown == limit {
            out.push_str("  ... (diff cut)\n");
            break;
        }
        out.push_str(&format!("{op} {line}\n"));
        shown += 1;
    }
    out
}

/// Collects the differences of one scenario, so that a failure shows all
/// of them at once.
#[derive(Default)]
pub struct Report {
    problems: Vec<String>,
}

impl Report {
    pub fn same(
        &mut self,
        what: &str,
        (a_name, a): (&str, &[String]),
        (b_name, b): (&str, &[String]),
    ) {
        let d = diff(a, b, 80);
        if !d.is_empty() {
            self.problems
                .push(format!("{what} differ (- {a_name}, + {b_name}):\n{d}"));
        }
    }

    pub fn fail(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Panic with every problem found, under `title` (which names the case
    /// and, for a random workspace, its seed).
    pub fn finish(self, title: &str) {
        if !self.problems.is_empty() {
            panic!(
                "{title}: {} problem(s)\n\n{}",
                self.problems.len(),
                self.problems.join("\n\n")
            );
        }
    }

    pub fn into_problems(self) -> Vec<String> {
        self.problems
    }
}
