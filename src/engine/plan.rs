//! The deploy plan: exactly what a deploy of a resolved workspace runs, in
//! order, computed without a database. Each change carries what the executor
//! needs to decide how to run it (hash, transaction mode).

use crate::package::{Origin, SqlFile, Workspace};
use crate::resolve::Resolution;
use crate::script::StatementKind;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct DeployPlan {
    pub workspace: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// `CREATE EXTENSION IF NOT EXISTS`, before the first package that needs it.
    Extension { name: String, required_by: String },
    /// Every change of this package follows, in plan order.
    Package {
        name: String,
        version: Option<String>,
        path: String,
        /// `workspace`, `installed` (below `extensions/`) or `embedded`
        /// (jobsctl's copy, the workspace having none).
        origin: Origin,
        depends_on: Vec<String>,
        /// Native extensions it requires (each also has its own step, before
        /// the first package that needs it).
        extensions: Vec<String>,
        changes: Vec<PlannedChange>,
    },
}

#[derive(Debug, Serialize)]
pub struct PlannedChange {
    pub name: String,
    /// Qualified as the registry stores them: `package:change`.
    pub requires: Vec<String>,
    /// Tags that mark this change.
    pub tags: Vec<String>,
    pub deploy: String,
    pub revert: String,
    pub verify: String,
    /// SHA-256 of the deploy script's bytes (pgpm's `script_hash`).
    pub script_hash: String,
    pub transaction: TransactionMode,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TransactionMode {
    /// Runs inside jobsctl's transaction; the script's own transaction
    /// statements (listed as `line: statement`) are taken out.
    Transactional { removed: Vec<String> },
    /// Runs statement by statement outside a transaction block.
    None { reason: String },
}

impl TransactionMode {
    pub fn of(deploy: &SqlFile) -> TransactionMode {
        let script = &deploy.script;
        if let Some(statement) = script.first_non_transactional() {
            let what = match &statement.kind {
                StatementKind::NonTransactional(what) => what.clone(),
                _ => "a statement".to_owned(),
            };
            return TransactionMode::None {
                reason: format!("{what} at line {}", statement.line),
            };
        }
        if script.declared_no_transaction {
            return TransactionMode::None {
                reason: "declared `-- jobsctl:no-transaction`".to_owned(),
            };
        }
        let removed = script
            .transaction_control()
            .map(|s| {
                format!(
                    "{}: {}",
                    s.line,
                    script.statement_text(s).trim_end_matches(';').trim()
                )
            })
            .collect();
        TransactionMode::Transactional { removed }
    }
}

pub fn deploy_plan(workspace: &Workspace, resolution: &Resolution) -> DeployPlan {
    let mut steps = Vec::new();
    let mut extensions_seen: Vec<&str> = Vec::new();
    for resolved in &resolution.packages {
        for extension in &resolved.extensions {
            if !extensions_seen.contains(&extension.as_str()) {
                extensions_seen.push(extension);
                steps.push(Step::Extension {
                    name: extension.clone(),
                    required_by: resolved.name.clone(),
                });
            }
        }
        let package = workspace
            .package(&resolved.name)
            .expect("resolution only names packages of its workspace");
        let changes = resolved
            .changes
            .iter()
            .zip(&package.plan.changes)
            .zip(&package.scripts)
            .map(|((change, planned), scripts)| PlannedChange {
                name: change.name.clone(),
                requires: change.requires.iter().map(ToString::to_string).collect(),
                tags: planned
                    .tags
                    .iter()
                    .map(|t| format!("@{}", t.name))
                    .collect(),
                deploy: scripts.deploy.display_path.clone(),
                revert: scripts.revert.display_path.clone(),
                verify: scripts.verify.display_path.clone(),
                script_hash: scripts.deploy.sha256(),
                transaction: TransactionMode::of(&scripts.deploy),
            })
            .collect();
        steps.push(Step::Package {
            name: resolved.name.clone(),
            version: package.version().map(str::to_owned),
            path: package.display_dir.clone(),
            origin: package.origin,
            depends_on: resolved.depends_on.clone(),
            extensions: resolved.extensions.clone(),
            changes,
        });
    }
    DeployPlan {
        workspace: workspace.source.describe(),
        steps,
    }
}

impl DeployPlan {
    pub fn change_count(&self) -> usize {
        self.packages().map(|(_, changes)| changes.len()).sum()
    }

    /// Where a package of the plan comes from.
    pub fn origin_of(&self, package: &str) -> Origin {
        self.steps
            .iter()
            .find_map(|s| match s {
                Step::Package { name, origin, .. } if name == package => Some(*origin),
                _ => None,
            })
            .unwrap_or(Origin::Workspace)
    }

    /// The native extensions a package requires.
    pub fn extensions_of(&self, package: &str) -> &[String] {
        self.steps
            .iter()
            .find_map(|s| match s {
                Step::Package {
                    name, extensions, ..
                } if name == package => Some(extensions.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }

    pub fn packages(&self) -> impl Iterator<Item = (&str, &[PlannedChange])> {
        self.steps.iter().filter_map(|s| match s {
            Step::Package { name, changes, .. } => Some((name.as_str(), changes.as_slice())),
            Step::Extension { .. } => None,
        })
    }

    /// Every change, in deploy order, with its package.
    pub fn changes_in_order(&self) -> impl Iterator<Item = (&str, &PlannedChange)> {
        self.packages()
            .flat_map(|(name, changes)| changes.iter().map(move |c| (name, c)))
    }

    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match s {
            Step::Extension { name, .. } => Some(name.as_str()),
            Step::Package { .. } => None,
        })
    }
}
