//! A package is a plan, a control file and the deploy, revert and verify
//! scripts of each change; a workspace is the set of packages found in a
//! source (the embedded files or a directory). Loading checks everything
//! that can be checked without a database and reports every problem found,
//! each with its file and line.

mod control;
mod problem;
mod source;
mod workspace;

pub use control::{Control, parse_control};
pub use problem::{Problem, Problems};
pub use source::{EntryKind, Source};
pub use workspace::{Workspace, load_workspace};

use crate::plan::{self, Plan};
use crate::script::{self, Script, StatementKind};

#[derive(Debug)]
pub struct Package {
    /// From the control file's base name, as pgpm names packages.
    pub name: String,
    /// The package folder relative to the workspace root (`""` for the root).
    pub dir: String,
    /// The control file's name, e.g. `pgpm-jobs.control`.
    pub control_file: String,
    pub control: Control,
    pub plan: Plan,
    /// One entry per plan change, in plan order.
    pub scripts: Vec<ChangeScripts>,
}

impl Package {
    /// Relative to the workspace root.
    pub fn control_path(&self) -> String {
        source::join(&self.dir, &self.control_file)
    }

    /// Relative to the workspace root.
    pub fn plan_path(&self) -> String {
        source::join(&self.dir, "pgpm.plan")
    }

    pub fn version(&self) -> Option<&str> {
        self.control.default_version.as_deref()
    }

    pub fn scripts_of(&self, change: &str) -> Option<&ChangeScripts> {
        self.plan
            .changes
            .iter()
            .position(|c| c.name == change)
            .map(|i| &self.scripts[i])
    }
}

#[derive(Debug)]
pub struct ChangeScripts {
    pub deploy: SqlFile,
    pub revert: SqlFile,
    pub verify: SqlFile,
}

/// One script, as stored and as analysed.
#[derive(Debug)]
pub struct SqlFile {
    /// Relative to the workspace root, e.g. `deploy/schemas/app_jobs/schema.sql`.
    pub path: String,
    /// How to name the file to the user.
    pub display_path: String,
    pub bytes: Vec<u8>,
    pub script: Script,
}

impl SqlFile {
    /// pgpm's `script_hash`: SHA-256 of the file's bytes as stored, lower-case hex.
    pub fn sha256(&self) -> String {
        crate::registry::sha256_hex(&self.bytes)
    }

    /// Statements the server will run (transaction control is jobsctl's job).
    pub fn executable_statements(&self) -> usize {
        self.script
            .statements
            .iter()
            .filter(|s| !matches!(s.kind, StatementKind::TransactionControl(_)))
            .count()
    }
}

/// Which script of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Deploy,
    Revert,
    Verify,
}

impl ScriptKind {
    pub fn folder(self) -> &'static str {
        match self {
            ScriptKind::Deploy => "deploy",
            ScriptKind::Revert => "revert",
            ScriptKind::Verify => "verify",
        }
    }
}

/// Load one package from `dir` (relative to the source root), whose control
/// file is `control_file`. Problems are added to `problems`; `None` when the
/// plan or control file could not be read at all.
fn load_package(
    source: &Source,
    dir: &str,
    control_file: &str,
    problems: &mut Problems,
) -> Option<Package> {
    let name = control_file
        .strip_suffix(".control")
        .unwrap_or(control_file)
        .to_owned();
    let control_path = source::join(dir, control_file);
    let plan_path = source::join(dir, "pgpm.plan");

    let control = read_text(source, &control_path, problems).and_then(|text| {
        parse_control(&text)
            .map_err(|ds| problems.extend_diagnostics(&source.display_path(&control_path), ds))
            .ok()
    });
    let plan = match read_text(source, &plan_path, problems) {
        Some(text) => plan::parse(&text)
            .map_err(|ds| problems.extend_diagnostics(&source.display_path(&plan_path), ds))
            .ok(),
        None => {
            if source.read(&plan_path).ok().flatten().is_none() {
                problems.push(Problem::file(
                    source.display_path(&plan_path),
                    format!("package `{name}` has no pgpm.plan"),
                ));
            }
            None
        }
    };
    let (control, plan) = (control?, plan?);
    if plan.project() != name {
        let line = plan
            .pragmas
            .iter()
            .find(|p| p.name == "project")
            .map_or(1, |p| p.line);
        problems.push(Problem::at(
            source.display_path(&plan_path),
            line,
            format!(
                "`%project={}` does not match the control file `{control_file}`: pgpm names the package `{name}`",
                plan.project()
            ),
        ));
    }
    let scripts = plan
        .changes
        .iter()
        .filter_map(|change| load_change_scripts(source, dir, &change.name, problems))
        .collect::<Vec<_>>();
    if scripts.len() != plan.changes.len() {
        return None;
    }
    Some(Package {
        name,
        dir: dir.to_owned(),
        control_file: control_file.to_owned(),
        control,
        plan,
        scripts,
    })
}

fn load_change_scripts(
    source: &Source,
    dir: &str,
    change: &str,
    problems: &mut Problems,
) -> Option<ChangeScripts> {
    let deploy = load_script(source, dir, change, ScriptKind::Deploy, problems);
    let revert = load_script(source, dir, change, ScriptKind::Revert, problems);
    let verify = load_script(source, dir, change, ScriptKind::Verify, problems);
    if let Some(deploy) = &deploy {
        check_transaction_mix(deploy, change, problems);
    }
    Some(ChangeScripts {
        deploy: deploy?,
        revert: revert?,
        verify: verify?,
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
    if kind != ScriptKind::Verify && file.executable_statements() == 0 {
        problems.push(Problem::file(
            file.display_path.clone(),
            format!(
                "{} script for change `{change}` has no SQL statement to run",
                kind.folder()
            ),
        ));
        return None;
    }
    Some(file)
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

fn read_text(source: &Source, path: &str, problems: &mut Problems) -> Option<String> {
    match source.read(path) {
        Ok(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                let bytes = e.as_bytes();
                let (line, column) = line_col_of_byte(bytes, e.utf8_error().valid_up_to());
                problems.push(Problem::at_column(
                    source.display_path(path),
                    line,
                    column,
                    "not valid UTF-8",
                ));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            problems.push(Problem::file(
                source.display_path(path),
                format!("cannot read: {e}"),
            ));
            None
        }
    }
}

fn line_col_of_byte(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}
