//! `jobsctl bundle`: packages as files PostgreSQL installs without jobsctl.
//!
//! **Extension form** (default). Each package of the selection, and every
//! package it depends on, becomes a PostgreSQL extension of its own:
//! `<name>--<version>.sql` (version: the control file's `default_version`)
//! and `<name>.control`, plus one PGXS `Makefile` for all of them.
//! `CREATE EXTENSION` needs every name in `requires` to be an installable
//! extension, so pgpm packages a package requires are not dropped from
//! `requires` but bundled next to it: `make install` installs them all and
//! `CREATE EXTENSION "<name>" CASCADE` creates the package's native
//! extensions and package dependencies first.
//!
//! **Single-file form** (`--single-file`). One plain SQL file for
//! `psql --single-transaction -v ON_ERROR_STOP=1 -f`: `CREATE EXTENSION IF
//! NOT EXISTS "<name>" CASCADE` for every native extension first, then the
//! packages in dependency order.
//!
//! In both, a package's SQL is its deploy scripts in plan order with their
//! own transaction statements (`BEGIN`, `COMMIT`, ...) taken out, as found
//! by [`crate::script::analyse`]: the whole file runs in one transaction
//! (CREATE EXTENSION's, or psql's). A script with a statement that cannot
//! run in a transaction block (`CREATE INDEX CONCURRENTLY`, ...) cannot be
//! bundled, and is reported with its position. Neither form writes the
//! `pgpm_migrate` registry: a database set up from a bundle is not known
//! to jobsctl or pgpm as deployed.

use super::Error;
use super::{Files, quote_control_value, write_file};
use crate::package::{Package, Problem, Problems, Workspace};
use crate::resolve::Resolution;
use crate::script::{Script, StatementKind};
use crate::text::agree;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The text every generated file carries near its top; files with it are
/// replaced by the next bundle without `--force`.
const MARKER: &str = "jobsctl bundle";

#[derive(Debug, Clone)]
pub enum BundleTarget {
    /// Extension files and a Makefile in this folder.
    Extensions(PathBuf),
    /// One SQL file for psql.
    SingleFile(PathBuf),
}

#[derive(Debug, Clone)]
pub struct BundleOptions {
    pub target: BundleTarget,
    /// Replace files that jobsctl did not generate.
    pub force: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Extensions,
    SingleFile,
}

#[derive(Debug, Serialize)]
pub struct BundleReport {
    pub form: Form,
    /// In dependency order.
    pub packages: Vec<BundledPackage>,
    /// Native extensions, in the order they are created.
    pub native_extensions: Vec<String>,
    pub files: Files,
    /// What to run next.
    pub install: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BundledPackage {
    pub name: String,
    pub version: Option<String>,
    pub changes: usize,
    /// The control file's `requires`: native extensions and packages.
    pub requires: Vec<String>,
}

/// Bundle the packages of `resolution` (see the module docs).
pub fn bundle(
    workspace: &Workspace,
    resolution: &Resolution,
    options: &BundleOptions,
) -> Result<BundleReport, Error> {
    let packages: Vec<&Package> = resolution
        .packages
        .iter()
        .map(|r| {
            workspace
                .package(&r.name)
                .expect("resolution only names packages of its workspace")
        })
        .collect();
    let mut natives: Vec<String> = Vec::new();
    for resolved in &resolution.packages {
        for extension in &resolved.extensions {
            if !natives.contains(extension) {
                natives.push(extension.clone());
            }
        }
    }
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    for package in &packages {
        check_scripts(package, &mut problems, &mut warnings);
    }
    if let BundleTarget::Extensions(_) = options.target {
        for package in &packages {
            check_extension_names(package, &mut problems);
        }
    }
    if !problems.is_empty() {
        return Err(Error::InvalidWorkspace {
            workspace: workspace.source.describe(),
            problems,
        });
    }

    let outputs: Vec<(PathBuf, String)> = match &options.target {
        BundleTarget::Extensions(dir) => extension_files(dir, &packages),
        BundleTarget::SingleFile(path) => {
            vec![(path.clone(), single_file(&packages, &natives))]
        }
    };
    refuse_foreign_files(&outputs, options.force)?;
    let mut files = Files::default();
    for (path, text) in &outputs {
        write_file(path, text.as_bytes(), &mut files)?;
    }

    let tops = top_packages(resolution);
    let (form, install) = match &options.target {
        BundleTarget::Extensions(dir) => (
            Form::Extensions,
            std::iter::once(format!("make -C {} install", shell_word(dir)))
                .chain(
                    tops.iter()
                        .map(|name| format!("CREATE EXTENSION \"{name}\" CASCADE;")),
                )
                .collect(),
        ),
        BundleTarget::SingleFile(path) => (
            Form::SingleFile,
            vec![format!(
                "psql --single-transaction -v ON_ERROR_STOP=1 -f {}",
                shell_word(path)
            )],
        ),
    };
    Ok(BundleReport {
        form,
        packages: packages
            .iter()
            .map(|p| BundledPackage {
                name: p.name.clone(),
                version: p.version().map(str::to_owned),
                changes: p.plan.changes.len(),
                requires: p.control.requires.clone(),
            })
            .collect(),
        native_extensions: natives,
        files,
        install,
        warnings,
    })
}

/// Statements a bundle cannot carry are problems; a session `SET` is a
/// warning, since in a bundle it lasts beyond its own script.
fn check_scripts(package: &Package, problems: &mut Problems, warnings: &mut Vec<String>) {
    for scripts in &package.scripts {
        let deploy = &scripts.deploy;
        if deploy.script.declared_no_transaction
            && deploy.script.first_non_transactional().is_none()
        {
            warnings.push(format!(
                "{}: declares `-- jobsctl:no-transaction`, but in a bundle it runs inside the bundle's transaction",
                deploy.display_path
            ));
        }
        for statement in &deploy.script.statements {
            match &statement.kind {
                StatementKind::NonTransactional(what) => problems.push(Problem::at_column(
                    deploy.display_path.clone(),
                    statement.line,
                    statement.column,
                    format!(
                        "{what} cannot run inside a transaction block, and a bundle runs in one (CREATE EXTENSION's, or psql --single-transaction's): deploy package `{}` with jobsctl instead",
                        package.name
                    ),
                )),
                StatementKind::Other if is_session_set(deploy.script.statement_text(statement)) => {
                    warnings.push(format!(
                        "{}:{}:{}: this SET stays in effect for the rest of the bundle (jobsctl deploy starts each script with the session's own settings); use SET LOCAL or set_config(..., true) to keep it to this change",
                        deploy.display_path, statement.line, statement.column
                    ));
                }
                _ => {}
            }
        }
    }
}

/// `SET name ...` or `SET SESSION ...`: not `SET LOCAL`, `SET TRANSACTION`
/// or `SET CONSTRAINTS`, which end with the transaction anyway.
fn is_session_set(statement: &str) -> bool {
    let mut words = statement.split_whitespace().map(str::to_ascii_uppercase);
    words.next().as_deref() == Some("SET")
        && !matches!(
            words.next().as_deref(),
            Some("LOCAL" | "TRANSACTION" | "CONSTRAINTS")
        )
}

/// PostgreSQL's rules for extension and version names: not empty, no
/// `--`, not starting or ending with `-`, no `/` or `\`.
fn check_extension_names(package: &Package, problems: &mut Problems) {
    let control = package.display_control_path();
    if let Some(why) = invalid_extension_word(&package.name) {
        problems.push(Problem::file(
            control.clone(),
            format!(
                "package `{}` cannot be a PostgreSQL extension name: {why}",
                package.name
            ),
        ));
    }
    match package.version() {
        None => problems.push(Problem::file(
            control,
            format!(
                "package `{}` has no `default_version`: the extension script is named `{}--<version>.sql` after it",
                package.name, package.name
            ),
        )),
        Some(version) => {
            if let Some(why) = invalid_extension_word(version) {
                problems.push(Problem::file(
                    control,
                    format!("`default_version = '{version}'` is not a valid extension version: {why}"),
                ));
            }
        }
    }
}

fn invalid_extension_word(word: &str) -> Option<&'static str> {
    if word.is_empty() {
        Some("it is empty")
    } else if word.contains("--") {
        Some("it contains `--`")
    } else if word.starts_with('-') || word.ends_with('-') {
        Some("it starts or ends with `-`")
    } else if word.contains(['/', '\\']) {
        Some("it contains a slash")
    } else {
        None
    }
}

/// A deploy script as bundled: its transaction statements taken out (a
/// line that held only such a statement goes entirely, and so does one of
/// the blank lines around it), a `;` after its last statement if it had
/// none (the next script follows directly), trailing blank lines dropped
/// and one final line break.
pub fn strip_transaction_control(script: &Script) -> String {
    let text = script.text.as_str();
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for statement in script.transaction_control() {
        let line_start = text[..statement.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[statement.end..]
            .find('\n')
            .map_or(text.len(), |i| statement.end + i + 1);
        let alone = text[line_start..statement.start].trim().is_empty()
            && text[statement.end..line_end].trim().is_empty();
        if alone {
            // Keep one blank line where the statement sat between two.
            let blank_before = line_start == 0
                || text[..line_start].ends_with("\n\n")
                || text[..line_start].ends_with("\n\r\n");
            let next_end = text[line_end..]
                .find('\n')
                .map_or(text.len(), |i| line_end + i + 1);
            let blank_after = line_end < text.len() && text[line_end..next_end].trim().is_empty();
            let end = if blank_before && blank_after {
                next_end
            } else {
                line_end
            };
            edits.push((line_start, end, ""));
        } else {
            edits.push((statement.start, statement.end, ""));
        }
    }
    if let Some(last) = script
        .statements
        .iter()
        .rfind(|s| !matches!(s.kind, StatementKind::TransactionControl(_)))
        && !script.statement_text(last).ends_with(';')
    {
        edits.push((last.end, last.end, ";"));
    }
    edits.sort_by_key(|&(start, end, _)| (start, end));
    let mut out = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    for (start, end, replacement) in edits {
        let start = start.max(copied_up_to);
        out.push_str(&text[copied_up_to..start]);
        out.push_str(replacement);
        copied_up_to = end.max(start);
    }
    out.push_str(&text[copied_up_to..]);
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = out.trim_end().to_owned();
    out.push_str(newline);
    out
}

/// One package's deploy scripts, in plan order, each under a comment that
/// names the change and its file.
fn package_sql(package: &Package) -> String {
    let mut out = String::new();
    for (change, scripts) in package.plan.changes.iter().zip(&package.scripts) {
        out.push_str(&format!(
            "\n-- change {}:{} ({})\n",
            package.name, change.name, scripts.deploy.path
        ));
        out.push_str(&strip_transaction_control(&scripts.deploy.script));
    }
    out
}

fn script_name(package: &Package) -> String {
    format!(
        "{}--{}.sql",
        package.name,
        package.version().unwrap_or_default()
    )
}

fn extension_files(dir: &Path, packages: &[&Package]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for package in packages {
        let version = package.version().unwrap_or_default();
        let script = format!(
            "\\echo Use 'CREATE EXTENSION \"{name}\" CASCADE' to load this file. \\quit\n\
             -- {name} {version} as a PostgreSQL extension, written by {MARKER} from the\n\
             -- package's deploy scripts in plan order, their transaction statements removed.\n{body}",
            name = package.name,
            body = package_sql(package),
        );
        out.push((dir.join(script_name(package)), script));
        out.push((
            dir.join(format!("{}.control", package.name)),
            control_text(package),
        ));
    }
    out.push((dir.join("Makefile"), makefile(packages)));
    out
}

/// The package's control file for PostgreSQL: comment, version, the same
/// `requires` (native extensions and packages, each an extension here),
/// and the package's other settings (except `directory`: the files are
/// installed where PGXS puts them).
fn control_text(package: &Package) -> String {
    let control = &package.control;
    let mut text = format!(
        "# {} extension, written by {MARKER} from {}\n",
        package.name, package.control_file
    );
    if let Some(comment) = &control.comment {
        text.push_str(&format!("comment = {}\n", quote_control_value(comment)));
    }
    text.push_str(&format!(
        "default_version = {}\n",
        quote_control_value(package.version().unwrap_or_default())
    ));
    if !control.requires.is_empty() {
        text.push_str(&format!(
            "requires = {}\n",
            quote_control_value(&control.requires.join(", "))
        ));
    }
    for (key, value) in control.other.iter().filter(|(k, _)| *k != "directory") {
        let value = match value.as_str() {
            "true" | "false" => value.clone(),
            _ => quote_control_value(value),
        };
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

fn makefile(packages: &[&Package]) -> String {
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let scripts: Vec<String> = packages.iter().map(|p| script_name(p)).collect();
    format!(
        "# PostgreSQL extensions {}, written by {MARKER}.\n\
         # `make install` copies them into `pg_config --sharedir`/extension; then, in a\n\
         # database: CREATE EXTENSION \"<name>\" CASCADE;\n\
         EXTENSION = {}\n\
         DATA = {}\n\
         \n\
         PG_CONFIG ?= pg_config\n\
         PGXS := $(shell $(PG_CONFIG) --pgxs)\n\
         include $(PGXS)\n",
        names.join(", "),
        names.join(" "),
        scripts.join(" "),
    )
}

fn single_file(packages: &[&Package], natives: &[String]) -> String {
    let described: Vec<String> = packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version().unwrap_or("(no version)")))
        .collect();
    let mut out = format!(
        "-- {}: written by {MARKER}.\n\
         -- Apply with: psql --single-transaction -v ON_ERROR_STOP=1 -f <this file>\n\
         -- Native extensions first, then each package's deploy scripts in plan order,\n\
         -- their transaction statements removed. Nothing is recorded in the pgpm_migrate\n\
         -- registry: jobsctl and pgpm will not know these changes as deployed.\n",
        described.join(", ")
    );
    if !natives.is_empty() {
        out.push('\n');
        for native in natives {
            out.push_str(&format!(
                "CREATE EXTENSION IF NOT EXISTS \"{native}\" CASCADE;\n"
            ));
        }
    }
    for package in packages {
        out.push_str(&format!(
            "\n-- ==== package {} {} ====\n",
            package.name,
            package.version().unwrap_or("")
        ));
        out.push_str(&package_sql(package));
    }
    out
}

/// Refuse to replace files that a bundle did not write, unless forced.
fn refuse_foreign_files(outputs: &[(PathBuf, String)], force: bool) -> Result<(), Error> {
    if force {
        return Ok(());
    }
    let foreign: Vec<String> = outputs
        .iter()
        .map(|(path, _)| path)
        .filter(|path| path.exists() && !generated_by_bundle(path))
        .map(|path| path.display().to_string())
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} exist{} and {} not written by jobsctl bundle: choose another --out, or pass --force to replace {}",
        foreign.join(", "),
        agree(foreign.len(), "s", ""),
        agree(foreign.len(), "was", "were"),
        agree(foreign.len(), "it", "them"),
    )))
}

fn generated_by_bundle(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        String::from_utf8_lossy(&bytes)
            .lines()
            .take(4)
            .any(|line| line.contains(MARKER))
    })
}

/// Packages no other bundled package depends on: the ones to CREATE.
fn top_packages(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .filter(|p| {
            !resolution
                .packages
                .iter()
                .any(|other| other.depends_on.contains(&p.name))
        })
        .map(|p| p.name.clone())
        .collect()
}

/// A path as a shell word (single-quoted when it needs to be).
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::analyse;

    fn stripped(sql: &str) -> String {
        strip_transaction_control(&analyse(sql).unwrap())
    }

    #[test]
    fn lines_holding_only_transaction_statements_go() {
        assert_eq!(
            stripped("-- Deploy x\n\nBEGIN;\n\nCREATE TABLE t ();\n\nCOMMIT;\n"),
            "-- Deploy x\n\nCREATE TABLE t ();\n"
        );
    }

    #[test]
    fn crlf_lines_go_whole() {
        assert_eq!(
            stripped("BEGIN;\r\nSELECT 1;\r\nCOMMIT;\r\n"),
            "SELECT 1;\r\n"
        );
    }

    #[test]
    fn statements_sharing_a_line_leave_the_rest_of_it() {
        assert_eq!(
            stripped("BEGIN; SELECT 1; COMMIT; -- done\n"),
            " SELECT 1;  -- done\n"
        );
    }

    #[test]
    fn dollar_quoted_begin_and_commit_stay() {
        let sql = "BEGIN;\nDO $$ BEGIN PERFORM 1; COMMIT; END $$;\nCOMMIT;\n";
        assert_eq!(stripped(sql), "DO $$ BEGIN PERFORM 1; COMMIT; END $$;\n");
    }

    #[test]
    fn a_last_statement_without_semicolon_gets_one() {
        assert_eq!(stripped("SELECT 1"), "SELECT 1;\n");
        assert_eq!(stripped("BEGIN;\nSELECT 1\n-- end"), "SELECT 1;\n-- end\n");
    }

    #[test]
    fn session_sets_are_told_from_local_ones() {
        assert!(is_session_set("SET search_path = app"));
        assert!(is_session_set("set session role x"));
        assert!(!is_session_set("SET LOCAL search_path = app"));
        assert!(!is_session_set(
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
        ));
        assert!(!is_session_set("SELECT 1"));
    }
}
