//! The deploy plan: exactly what a deploy of a resolved workspace runs, in
//! order, computed without a database. Each change carries what the executor
//! needs to run it (its scripts, hash, transaction mode); `jobsctl plan
//! --format json` shows the plan without the scripts.

use crate::package::{ChangeScripts, Origin, SqlFile, Workspace};
use crate::resolve::Resolution;
use crate::script::StatementKind;
use serde::Serialize;

/// The plan borrows the workspace it was made from: each change holds its
/// scripts, so that running it never looks anything up by name.
#[derive(Debug, Serialize)]
pub struct DeployPlan<'w> {
    pub workspace: String,
    pub steps: Vec<Step<'w>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step<'w> {
    /// `CREATE EXTENSION IF NOT EXISTS`, before the first package that needs it.
    Extension { name: String, required_by: String },
    /// Every change of this package follows, in plan order.
    Package(PlannedPackage<'w>),
}

#[derive(Debug, Serialize)]
pub struct PlannedPackage<'w> {
    pub name: String,
    pub version: Option<String>,
    pub path: String,
    /// `workspace`, `installed` (below `extensions/`) or `embedded`
    /// (jobsctl's copy, the workspace having none).
    pub origin: Origin,
    pub depends_on: Vec<String>,
    /// Native extensions it requires (each also has its own step, before
    /// the first package that needs it).
    pub extensions: Vec<String>,
    pub changes: Vec<PlannedChange<'w>>,
}

#[derive(Debug, Serialize)]
pub struct PlannedChange<'w> {
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
    /// The change's deploy, revert and verify scripts, as loaded.
    #[serde(skip)]
    pub scripts: &'w ChangeScripts,
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

pub fn deploy_plan<'w>(workspace: &'w Workspace, resolution: &Resolution) -> DeployPlan<'w> {
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
        // The resolution lists the package's changes in plan order, as the
        // package does.
        let changes = resolved
            .changes
            .iter()
            .zip(package.changes())
            .map(|(change, (planned, scripts))| {
                debug_assert_eq!(change.name, planned.name);
                PlannedChange {
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
                    scripts,
                }
            })
            .collect();
        steps.push(Step::Package(PlannedPackage {
            name: resolved.name.clone(),
            version: package.version().map(str::to_owned),
            path: package.display_dir.clone(),
            origin: package.origin,
            depends_on: resolved.depends_on.clone(),
            extensions: resolved.extensions.clone(),
            changes,
        }));
    }
    DeployPlan {
        workspace: workspace.source.describe(),
        steps,
    }
}

impl<'w> DeployPlan<'w> {
    pub fn change_count(&self) -> usize {
        self.packages().map(|p| p.changes.len()).sum()
    }

    /// Where a package of the plan comes from.
    pub fn origin_of(&self, package: &str) -> Origin {
        self.packages()
            .find(|p| p.name == package)
            .map_or(Origin::Workspace, |p| p.origin)
    }

    pub fn packages(&self) -> impl Iterator<Item = &PlannedPackage<'w>> {
        self.steps.iter().filter_map(|s| match s {
            Step::Package(package) => Some(package),
            Step::Extension { .. } => None,
        })
    }

    /// Every change, in deploy order, with its package.
    pub fn changes_in_order(
        &self,
    ) -> impl Iterator<Item = (&PlannedPackage<'w>, &PlannedChange<'w>)> {
        self.packages()
            .flat_map(|package| package.changes.iter().map(move |c| (package, c)))
    }

    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match s {
            Step::Extension { name, .. } => Some(name.as_str()),
            Step::Package(_) => None,
        })
    }
}
