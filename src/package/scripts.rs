//! Loading the three scripts of a change (deploy, revert, verify) and the
//! checks that need only them: a script path that would leave the package
//! folder, empty scripts (warnings), a missing verify script (a warning),
//! transaction control beside statements that cannot run in a transaction,
//! and two changes whose deploy scripts are the same bytes.

use super::source::{self, Source};
use super::{
    ChangeScripts, Found, Package, Problem, Problems, ScriptKind, SqlFile, line_col_of_byte,
};
use crate::plan::Change;
use crate::script::{self, StatementKind};

pub(super) fn load_change_scripts(
    source: &Source,
    dir: &str,
    change: &Change,
    found: &mut Found,
) -> Option<ChangeScripts> {
    if script_path_escapes(&change.name) {
        found.problems.push(Problem::at(
            source.display_path(&source::join(dir, "pgpm.plan")),
            change.line,
            format!(
                "change `{}` names a script outside the package folder (a `..`, `.` or empty path segment): jobsctl refuses it, whatever pgpm does",
                change.name
            ),
        ));
        return None;
    }
    let verify = match missing_verify(source, dir, &change.name) {
        Some(empty) => {
            found.warnings.push(Problem::file(
                empty.display_path.clone(),
                format!(
                    "missing verify script for change `{}`: the change is never verified (pgpm skips it too)",
                    change.name
                ),
            ));
            Some(empty)
        }
        None => load_script(
            source,
            dir,
            &change.name,
            ScriptKind::Verify,
            &mut found.problems,
        ),
    };
    let problems = &mut found.problems;
    let deploy = load_script(source, dir, &change.name, ScriptKind::Deploy, problems);
    let revert = load_script(source, dir, &change.name, ScriptKind::Revert, problems);
    if let Some(deploy) = &deploy {
        check_transaction_mix(deploy, &change.name, problems);
    }
    let scripts = ChangeScripts {
        deploy: deploy?,
        revert: revert?,
        verify: verify?,
    };
    warn_if_empty(&scripts, &change.name, &mut found.warnings);
    Some(scripts)
}

/// An empty stand-in for a verify script that does not exist: pgpm warns
/// and skips the change's verification, and so does jobsctl (it verifies
/// nothing). `None` when the file exists (or cannot be read: then loading
/// it reports why).
fn missing_verify(source: &Source, dir: &str, change: &str) -> Option<SqlFile> {
    let path = source::join(
        dir,
        &format!("{}/{change}.sql", ScriptKind::Verify.folder()),
    );
    if !matches!(source.read(&path), Ok(None)) {
        return None;
    }
    Some(SqlFile {
        display_path: source.display_path(&path),
        path,
        bytes: Vec::new(),
        script: script::analyse("").expect("an empty script analyses"),
    })
}

fn load_script(
    source: &Source,
    dir: &str,
    change: &str,
    kind: ScriptKind,
    problems: &mut Problems,
) -> Option<SqlFile> {
    let path = source::join(dir, &format!("{}/{change}.sql", kind.folder()));
    let display_path = source.display_path(&path);
    let bytes = match source.read(&path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            problems.push(Problem::file(
                display_path,
                format!("missing {} script for change `{change}`", kind.folder()),
            ));
            return None;
        }
        Err(e) => {
            problems.push(Problem::file(display_path, format!("cannot read: {e}")));
            return None;
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => {
            let (line, column) = line_col_of_byte(&bytes, e.valid_up_to());
            problems.push(Problem::at_column(
                display_path,
                line,
                column,
                "not valid UTF-8",
            ));
            return None;
        }
    };
    let script = match script::analyse(text) {
        Ok(script) => script,
        Err(e) => {
            let (line, column) = e.position();
            problems.push(Problem::at_column(
                display_path,
                line,
                column,
                e.to_string(),
            ));
            return None;
        }
    };
    let file = SqlFile {
        path,
        display_path,
        bytes,
        script,
    };
    Some(file)
}

/// pgpm deploys and reverts a script without statements (only comments, or
/// only `BEGIN;`/`COMMIT;`) as a no-op and records it; real packages use
/// such changes as dependency anchors. jobsctl does the same, with a warning
/// where that usually hides a mistake: an empty deploy script, or an empty
/// revert script that would leave the deploy script's objects behind. A
/// zero-byte file is a no-op here too, but pgpm stops at it ("script not
/// found"), so the warning says so.
fn warn_if_empty(scripts: &ChangeScripts, change: &str, warnings: &mut Problems) {
    let warn = |file: &SqlFile, what: &str| {
        let pgpm = if file.bytes.is_empty() {
            "; the file is empty (zero bytes), which pgpm refuses as a missing script"
        } else {
            ""
        };
        Problem::file(
            file.display_path.clone(),
            format!(
                "{} script for change `{change}` has no SQL statement: {what}{pgpm}",
                file_kind(file)
            ),
        )
    };
    if scripts.deploy.executable_statements() == 0 {
        warnings.push(warn(
            &scripts.deploy,
            "it deploys as a no-op and is recorded as deployed, as in pgpm",
        ));
    } else if scripts.revert.executable_statements() == 0 {
        warnings.push(warn(
            &scripts.revert,
            "reverting the change leaves what its deploy script created in place",
        ));
    }
}

/// `deploy`, `revert` or `verify`, from the file's folder.
fn file_kind(file: &SqlFile) -> &'static str {
    [ScriptKind::Deploy, ScriptKind::Revert, ScriptKind::Verify]
        .into_iter()
        .find(|k| {
            file.path.starts_with(&format!("{}/", k.folder()))
                || file.path.contains(&format!("/{}/", k.folder()))
        })
        .map_or("a", ScriptKind::folder)
}

/// The registry keeps one row per `(package, script_hash)`: two changes of
/// a package whose deploy scripts are byte for byte the same (two
/// comment-only anchors with the same text, say) cannot both be recorded,
/// by pgpm or jobsctl. Found here, before a deploy stops halfway.
pub(super) fn check_unique_hashes(package: &Package, problems: &mut Problems) {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (change, scripts) in package.plan.changes.iter().zip(&package.scripts) {
        let hash = scripts.deploy.sha256();
        if let Some((_, first)) = seen.iter().find(|(h, _)| *h == hash) {
            problems.push(Problem::file(
                scripts.deploy.display_path.clone(),
                format!(
                    "deploy script of change `{}` is identical to that of `{first}`: the registry records one change per script hash and package (pgpm fails the same way); make them differ, e.g. with a `-- Deploy {}` comment",
                    change.name, change.name
                ),
            ));
        } else {
            seen.push((hash, &change.name));
        }
    }
}

/// A change name maps to a script path below the package's `deploy/`,
/// `revert/` and `verify/` folders; a `..`, `.` or empty segment would
/// make that path point elsewhere (`a/../../../../etc/x` reads
/// `/etc/x.sql`). pgpm does not check; jobsctl refuses.
fn script_path_escapes(change: &str) -> bool {
    change
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
}

/// A deploy script that needs to run outside a transaction cannot also open
/// and close transactions of its own: the result would depend on where the
/// script's COMMIT falls.
fn check_transaction_mix(deploy: &SqlFile, change: &str, problems: &mut Problems) {
    let (Some(outside), Some(control)) = (
        deploy.script.first_non_transactional(),
        deploy.script.transaction_control().next(),
    ) else {
        return;
    };
    let StatementKind::NonTransactional(what) = &outside.kind else {
        return;
    };
    problems.push(Problem::at_column(
        deploy.display_path.clone(),
        control.line,
        control.column,
        format!(
            "change `{change}` runs {what} (line {}), which cannot run inside a transaction block, so its deploy script may not contain transaction control such as `{}`: remove it",
            outside.line,
            deploy.script.statement_text(control).trim_end_matches(';').trim()
        ),
    ));
}
