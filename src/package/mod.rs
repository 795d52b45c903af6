//! A package is a plan, a control file and the deploy, revert and verify
//! scripts of each change; a workspace is the set of packages found in a
//! source (the embedded files or a directory). Loading checks everything
//! that can be checked without a database and reports every problem found,
//! each with its file and line.

mod control;
mod problem;
mod scripts;
mod source;
mod workspace;

pub use control::{Control, parse_control};
pub use problem::{Problem, Problems};
pub use source::{EntryKind, Source};
pub use workspace::{Workspace, load_workspace};

use crate::plan::{self, Change, Plan};
use crate::script::{Script, StatementKind};
use scripts::{check_unique_hashes, load_change_scripts};
use serde::Serialize;

#[derive(Debug)]
pub struct Package {
    /// The plan's `%project`: the name pgpm records changes under (the
    /// registry's `package`) and qualifies references with.
    pub name: String,
    /// pgpm's modules of this folder, one per control file (base name);
    /// usually just `name`. `--package` and control-file `requires` may
    /// name any of them.
    pub modules: Vec<String>,
    /// The package folder relative to its source's root (`""` for the root).
    pub dir: String,
    /// How to name the folder to the user.
    pub display_dir: String,
    /// The control file that names the package (the one matching `%project`,
    /// else the first), e.g. `pgpm-jobs.control`.
    pub control_file: String,
    /// Where the package was found.
    pub origin: Origin,
    /// The settings of that control file (pgpm uses its `requires` for
    /// every module of the folder).
    pub control: Control,
    pub plan: Plan,
    /// One entry per plan change, in plan order.
    pub scripts: Vec<ChangeScripts>,
}

/// Where a package comes from, which decides how drift in it is treated
/// (docs/pgpm-compat.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The workspace's own: its root package or a `packages` glob's.
    Workspace,
    /// An installed module below the workspace's `extensions/`.
    Installed,
    /// Embedded in jobsctl, used because the workspace has no package of
    /// that name.
    Embedded,
}

impl Origin {
    /// A module someone else publishes: drift there is usually an upgrade
    /// or another tool's release, not an edit of one's own script.
    pub fn is_installed(self) -> bool {
        self != Origin::Workspace
    }
}

impl Package {
    /// Relative to the package's source root.
    pub fn control_path(&self) -> String {
        source::join(&self.dir, &self.control_file)
    }

    /// Relative to the package's source root.
    pub fn plan_path(&self) -> String {
        source::join(&self.dir, "pgpm.plan")
    }

    /// The control file, as shown to the user.
    pub fn display_control_path(&self) -> String {
        display_join(&self.display_dir, &self.control_file)
    }

    /// The plan file, as shown to the user.
    pub fn display_plan_path(&self) -> String {
        display_join(&self.display_dir, "pgpm.plan")
    }

    /// Put `prefix` before every path shown to the user (`embedded:` for a
    /// package taken from the embedded workspace into one on disk).
    pub fn relabel(&mut self, prefix: &str) {
        self.display_dir = match self.dir.as_str() {
            "" => format!("{prefix}."),
            dir => format!("{prefix}{dir}"),
        };
        for scripts in &mut self.scripts {
            for file in [
                &mut scripts.deploy,
                &mut scripts.revert,
                &mut scripts.verify,
            ] {
                file.display_path = format!("{prefix}{}", file.path);
            }
        }
    }

    /// True when `name` is the package's name or one of its modules.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.modules.iter().any(|m| m == name)
    }

    pub fn version(&self) -> Option<&str> {
        self.control.default_version.as_deref()
    }

    /// Each plan change with its scripts, in plan order.
    pub fn changes(&self) -> impl Iterator<Item = (&Change, &ChangeScripts)> {
        debug_assert_eq!(self.plan.changes.len(), self.scripts.len());
        self.plan.changes.iter().zip(&self.scripts)
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

/// What loading found besides the packages: problems (errors) and warnings.
#[derive(Debug, Default)]
pub struct Found {
    pub problems: Problems,
    pub warnings: Problems,
}

/// Load the package of folder `dir` (relative to the source root), whose
/// control files are `control_files` (one module each, as pgpm makes them;
/// they share the folder's plan and scripts). Problems and warnings are
/// added to `found`; `None` when the package could not be loaded.
fn load_package(
    source: &Source,
    dir: &str,
    control_files: &[String],
    origin: Origin,
    found: &mut Found,
) -> Option<Package> {
    let modules: Vec<String> = control_files
        .iter()
        .map(|f| f.strip_suffix(".control").unwrap_or(f).to_owned())
        .collect();
    let plan_path = source::join(dir, "pgpm.plan");
    let problems = &mut found.problems;
    let controls: Vec<Option<Control>> = control_files
        .iter()
        .map(|control_file| {
            let control_path = source::join(dir, control_file);
            read_text(source, &control_path, problems).and_then(|text| {
                parse_control(&text)
                    .map_err(|ds| {
                        problems.extend_diagnostics(&source.display_path(&control_path), ds)
                    })
                    .ok()
            })
        })
        .collect();
    let plan = match read_text(source, &plan_path, problems) {
        Some(text) => plan::parse(&text)
            .map_err(|ds| problems.extend_diagnostics(&source.display_path(&plan_path), ds))
            .ok(),
        None => {
            if source.read(&plan_path).ok().flatten().is_none() {
                problems.push(Problem::file(
                    source.display_path(&plan_path),
                    format!("package `{}` has no pgpm.plan", modules.join("`, `")),
                ));
            }
            None
        }
    };
    let plan = plan?;
    let controls: Vec<Control> = controls.into_iter().collect::<Option<_>>()?;
    // pgpm records a module's changes under its plan's `%project`; the
    // control file names the module (for `requires` and `--package`).
    let primary = modules
        .iter()
        .position(|m| *m == plan.project())
        .unwrap_or(0);
    let name = if plan.project().is_empty() {
        modules[primary].clone()
    } else {
        plan.project().to_owned()
    };
    if !modules.contains(&name) {
        let line = plan
            .pragmas
            .iter()
            .find(|p| p.name == "project")
            .map_or(1, |p| p.line);
        found.warnings.push(Problem::at(
            source.display_path(&plan_path),
            line,
            format!(
                "`%project={name}` does not match the control file{} `{}`: pgpm records the changes under `{name}`, and so does jobsctl",
                crate::text::plural_s(control_files.len()),
                control_files.join("`, `")
            ),
        ));
    }
    // pgpm deploys any module of the folder as the `%project` one, with
    // that control file's `requires`; the others' are not used.
    let control = controls.into_iter().nth(primary).expect("one per module");
    let scripts = plan
        .changes
        .iter()
        .filter_map(|change| load_change_scripts(source, dir, change, found))
        .collect::<Vec<_>>();
    if scripts.len() != plan.changes.len() {
        return None;
    }
    let package = Package {
        name,
        modules,
        dir: dir.to_owned(),
        display_dir: source.display_path(dir),
        control_file: control_files[primary].clone(),
        origin,
        control,
        plan,
        scripts,
    };
    check_unique_hashes(&package, &mut found.problems);
    Some(package)
}

fn display_join(dir: &str, file: &str) -> String {
    if dir.is_empty() || dir == "." {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
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

pub(super) fn line_col_of_byte(bytes: &[u8], offset: usize) -> (usize, usize) {
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
