//! The conversion, as a list of steps computed without a database: the
//! head (the release's `sql/` file, one step per `-- step:` section), then
//! every change of our pgpm-jobs in plan order with how it is applied, then
//! the queue recount. `run` executes them; `--dry-run` prints them.

use super::fingerprint::Adoptable;
use crate::engine::plan::{PlannedChange, PlannedPackage};
use crate::package::SqlFile;
use crate::script;
use serde::Serialize;

/// One `-- step:` section of an SQL file of ours.
#[derive(Debug, Clone)]
pub struct SqlStep {
    pub title: String,
    pub sql: String,
    /// `path:line` of its `-- step:` line.
    pub location: String,
}

/// The `-- step: <title>` sections of `text`, in order; what precedes the
/// first one (the file's header comment) is not a step.
pub fn sections(text: &str, path: &str) -> Vec<SqlStep> {
    let mut steps: Vec<SqlStep> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(title) = line.strip_prefix("-- step:") {
            steps.push(SqlStep {
                title: title.trim().to_owned(),
                sql: String::new(),
                location: format!("{path}:{}", index + 1),
            });
        }
        if let Some(step) = steps.last_mut() {
            step.sql.push_str(line);
            step.sql.push('\n');
        }
    }
    steps
}

/// How a change of pgpm-jobs is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Its deploy script, as is.
    Verbatim,
    /// Its deploy script with `CREATE FUNCTION` of functions upstream has
    /// sent as `CREATE OR REPLACE FUNCTION`.
    CreateOrReplace,
    /// Recorded without running: the head made what it makes.
    ReplacedByConversion,
}

impl How {
    pub fn describe(self) -> &'static str {
        match self {
            How::Verbatim => "its deploy script, verbatim",
            How::CreateOrReplace => "its deploy script, CREATE FUNCTION sent as CREATE OR REPLACE",
            How::ReplacedByConversion => "recorded only: replaced by the conversion",
        }
    }
}

/// One change of pgpm-jobs in the conversion.
pub struct ChangeStep<'p> {
    pub package: &'p PlannedPackage<'p>,
    pub change: &'p PlannedChange<'p>,
    pub how: How,
    /// The script sent for `CreateOrReplace`.
    pub rewritten: Option<SqlFile>,
    /// The functions it replaces in place.
    pub functions: Vec<String>,
}

/// Every change of `package` (our pgpm-jobs), in plan order.
pub fn change_steps<'p>(package: &'p PlannedPackage<'p>, known: &Adoptable) -> Vec<ChangeStep<'p>> {
    package
        .changes
        .iter()
        .map(|change| {
            if known.replaced_changes.contains(&change.name.as_str()) {
                return ChangeStep {
                    package,
                    change,
                    how: How::ReplacedByConversion,
                    rewritten: None,
                    functions: Vec::new(),
                };
            }
            match or_replace(&change.scripts.deploy, known.shared_functions) {
                Some((file, functions)) => ChangeStep {
                    package,
                    change,
                    how: How::CreateOrReplace,
                    rewritten: Some(file),
                    functions,
                },
                None => ChangeStep {
                    package,
                    change,
                    how: How::Verbatim,
                    rewritten: None,
                    functions: Vec::new(),
                },
            }
        })
        .collect()
}

/// `file` with every statement `CREATE FUNCTION app_jobs.<f>` where `f` is
/// one of `shared` turned into `CREATE OR REPLACE FUNCTION app_jobs.<f>`,
/// and the names of those functions; `None` when there is none. Only the
/// statement's first two words change, so line numbers still match the
/// file (columns of that one line shift by 11).
pub fn or_replace(file: &SqlFile, shared: &[&str]) -> Option<(SqlFile, Vec<String>)> {
    let text = &file.script.text;
    let mut inserts = Vec::new();
    let mut functions = Vec::new();
    for statement in &file.script.statements {
        let body = file.script.statement_text(statement);
        let mut words = body.split_whitespace();
        let (Some(create), Some(function), Some(name)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if !create.eq_ignore_ascii_case("CREATE") || !function.eq_ignore_ascii_case("FUNCTION") {
            continue;
        }
        let Some(name) = name.strip_prefix("app_jobs.") else {
            continue;
        };
        let name = name.split('(').next().unwrap_or(name);
        if shared.contains(&name) {
            inserts.push(statement.start + create.len());
            functions.push(name.to_owned());
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let mut rewritten = String::with_capacity(text.len() + 11 * inserts.len());
    let mut copied = 0;
    for at in inserts {
        rewritten.push_str(&text[copied..at]);
        rewritten.push_str(" OR REPLACE");
        copied = at;
    }
    rewritten.push_str(&text[copied..]);
    let script = script::analyse(&rewritten).ok()?;
    Some((
        SqlFile {
            path: file.path.clone(),
            display_path: file.display_path.clone(),
            bytes: rewritten.into_bytes(),
            script,
        },
        functions,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SqlFile {
        SqlFile {
            path: "deploy/x.sql".into(),
            display_path: "deploy/x.sql".into(),
            bytes: text.as_bytes().to_vec(),
            script: script::analyse(text).unwrap(),
        }
    }

    #[test]
    fn only_create_function_of_shared_functions_is_rewritten() {
        let sql = "BEGIN;\n-- CREATE FUNCTION app_jobs.get_job in a comment\nCREATE FUNCTION app_jobs.get_job(\n  a int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n\
                   CREATE FUNCTION app_jobs.get_jobs() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n\
                   COMMENT ON FUNCTION app_jobs.get_job(int) IS 'x';\nCOMMIT;\n";
        let (rewritten, functions) = or_replace(&file(sql), &["get_job"]).unwrap();
        assert_eq!(functions, ["get_job"]);
        let text = String::from_utf8(rewritten.bytes).unwrap();
        assert!(text.contains("\nCREATE OR REPLACE FUNCTION app_jobs.get_job(\n"));
        assert!(text.contains("-- CREATE FUNCTION app_jobs.get_job in a comment"));
        assert!(text.contains("\nCREATE FUNCTION app_jobs.get_jobs()"));
        assert_eq!(text.lines().count(), sql.lines().count());
        assert!(or_replace(&file("CREATE TABLE t (a int);"), &["get_job"]).is_none());
    }

    #[test]
    fn the_head_has_titled_steps() {
        let known = &crate::adopt::fingerprint::adoptable()[0];
        let steps = sections(known.head, known.head_path);
        assert!(steps.len() >= 8, "{}", steps.len());
        assert!(steps[0].title.contains("default privileges"));
        assert!(steps.iter().all(|s| s.sql.starts_with("-- step:")));
        let tail = sections(
            crate::adopt::fingerprint::RECOUNT_SQL,
            crate::adopt::fingerprint::RECOUNT_PATH,
        );
        assert_eq!(tail.len(), 1);
    }
}
