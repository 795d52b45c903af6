//! The workspace graph: which packages need which (control-file `requires`
//! and cross-package plan dependencies), which `requires` entries are native
//! extensions, and one deterministic order: dependencies first, then plan
//! order within a package. Tags are resolved to the changes they mark;
//! cycles are reported with their full path.

use crate::package::{Package, Problem, Problems, Workspace};
use crate::plan::{Dependency, Target};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ChangeRef {
    pub package: String,
    pub change: String,
}

impl fmt::Display for ChangeRef {
    /// The registry's form: `package:change`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.package, self.change)
    }
}

#[derive(Debug)]
pub struct Resolution {
    /// In deploy order.
    pub packages: Vec<ResolvedPackage>,
}

#[derive(Debug)]
pub struct ResolvedPackage {
    pub name: String,
    /// `requires` entries that are not packages of the workspace, in control
    /// file order: installed with `CREATE EXTENSION`.
    pub extensions: Vec<String>,
    /// Packages this one needs, in the order they were declared.
    pub depends_on: Vec<String>,
    /// Plan order; each change's dependencies qualified and tag-resolved.
    pub changes: Vec<ResolvedChange>,
}

#[derive(Debug)]
pub struct ResolvedChange {
    pub name: String,
    pub requires: Vec<ChangeRef>,
}

/// Where a package-to-package edge was declared, for cycle messages.
#[derive(Debug, Clone)]
struct Edge {
    to: String,
    path: String,
    line: Option<usize>,
}

/// Resolve the packages named in `wanted` (all of them when empty) and
/// everything they depend on.
pub fn resolve(workspace: &Workspace, wanted: &[String]) -> Result<Resolution, Problems> {
    let mut problems = Problems::default();
    let names: Vec<&str> = workspace.packages.iter().map(|p| p.name.as_str()).collect();
    for name in wanted {
        if workspace.package(name).is_none() && !workspace.is_broken(name) {
            problems.push(Problem::file(
                workspace.source.describe(),
                format!(
                    "no package `{name}` in the workspace (packages: {})",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut edges: HashMap<&str, Vec<Edge>> = HashMap::new();
    let mut resolved: HashMap<&str, ResolvedPackage> = HashMap::new();
    for package in &workspace.packages {
        let (package_edges, resolved_package) = resolve_package(workspace, package, &mut problems);
        edges.insert(&package.name, package_edges);
        resolved.insert(&package.name, resolved_package);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let roots: Vec<&str> = if wanted.is_empty() {
        names
    } else {
        wanted
            .iter()
            .filter_map(|w| workspace.package(w).map(|p| p.name.as_str()))
            .collect()
    };
    let order = order_packages(&roots, &edges, &mut problems);
    let packages = order
        .into_iter()
        .filter_map(|name| resolved.remove(name))
        .collect();
    problems.into_result(Resolution { packages })
}

fn resolve_package(
    workspace: &Workspace,
    package: &Package,
    problems: &mut Problems,
) -> (Vec<Edge>, ResolvedPackage) {
    let control_path = package.display_control_path();
    let plan_path = package.display_plan_path();
    let mut edges: Vec<Edge> = Vec::new();
    let mut extensions = Vec::new();
    for name in &package.control.requires {
        if package.answers_to(name) {
            problems.push(Problem::file(
                control_path.clone(),
                format!("package `{name}` requires itself"),
            ));
        } else if workspace.is_broken(name) {
            // Its own problems are reported; it is not a native extension.
        } else if let Some(required) = workspace.package(name) {
            if !edges.iter().any(|e| e.to == required.name) {
                edges.push(Edge {
                    to: required.name.clone(),
                    path: control_path.clone(),
                    line: None,
                });
            }
        } else {
            extensions.push(name.clone());
        }
    }
    let mut changes = Vec::new();
    for change in &package.plan.changes {
        let mut requires = Vec::new();
        for dependency in &change.dependencies {
            if workspace.is_broken(dependency.project_or(&package.name)) {
                continue; // that package's own problems are reported
            }
            match resolve_dependency(workspace, package, dependency) {
                Ok(target) => {
                    if target.package != package.name
                        && !edges.iter().any(|e| e.to == target.package)
                    {
                        edges.push(Edge {
                            to: target.package.clone(),
                            path: plan_path.clone(),
                            line: Some(change.line),
                        });
                    }
                    // `x` and `pkg:x` are one requirement, recorded once.
                    if !requires.contains(&target) {
                        requires.push(target);
                    }
                }
                Err(message) => problems.push(Problem::at(
                    plan_path.clone(),
                    change.line,
                    format!(
                        "change `{}` requires `{dependency}`, {message}",
                        change.name
                    ),
                )),
            }
        }
        changes.push(ResolvedChange {
            name: change.name.clone(),
            requires,
        });
    }
    let depends_on = edges.iter().map(|e| e.to.clone()).collect();
    (
        edges,
        ResolvedPackage {
            name: package.name.clone(),
            extensions,
            depends_on,
            changes,
        },
    )
}

/// `change`, `@tag`, `pkg:change` or `pkg:@tag` → the change it names.
fn resolve_dependency(
    workspace: &Workspace,
    package: &Package,
    dependency: &Dependency,
) -> Result<ChangeRef, String> {
    let project = dependency.project_or(&package.name);
    let Some(target_package) = workspace.package(project) else {
        return Err(format!("but package `{project}` is not in the workspace"));
    };
    let plan = &target_package.plan;
    let change = match &dependency.target {
        Target::Change(name) => plan
            .change(name)
            .map(|c| c.name.clone())
            .ok_or_else(|| format!("but package `{project}` has no change `{name}`"))?,
        Target::Tag(tag) => plan
            .change_for_tag(tag)
            .map(|c| c.name.clone())
            .ok_or_else(|| format!("but package `{project}` has no tag `@{tag}`"))?,
    };
    Ok(ChangeRef {
        package: target_package.name.clone(),
        change,
    })
}

/// Depth-first, dependencies before dependents, declared order among
/// siblings; every cycle met is reported with its path.
fn order_packages<'a>(
    roots: &[&'a str],
    edges: &'a HashMap<&str, Vec<Edge>>,
    problems: &mut Problems,
) -> Vec<&'a str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Visiting,
        Done,
    }
    struct Walk<'a, 'p> {
        edges: &'a HashMap<&'a str, Vec<Edge>>,
        state: HashMap<&'a str, State>,
        stack: Vec<(&'a str, Option<&'a Edge>)>,
        order: Vec<&'a str>,
        problems: &'p mut Problems,
    }
    impl<'a> Walk<'a, '_> {
        fn visit(&mut self, name: &'a str, via: Option<&'a Edge>) {
            match self.state.get(name) {
                Some(State::Done) => return,
                Some(State::Visiting) => {
                    self.report_cycle(name, via);
                    return;
                }
                None => {}
            }
            self.state.insert(name, State::Visiting);
            self.stack.push((name, via));
            for edge in self.edges.get(name).map(Vec::as_slice).unwrap_or_default() {
                self.visit(&edge.to, Some(edge));
            }
            self.stack.pop();
            self.state.insert(name, State::Done);
            self.order.push(name);
        }

        fn report_cycle(&mut self, name: &str, closing: Option<&Edge>) {
            let start = self.stack.iter().position(|(n, _)| *n == name).unwrap_or(0);
            let mut path: Vec<&str> = self.stack[start..].iter().map(|(n, _)| *n).collect();
            path.push(name);
            let mut declared: Vec<String> = self.stack[start + 1..]
                .iter()
                .filter_map(|(n, e)| e.map(|e| (n, e)))
                .map(|(_, e)| describe_edge(e))
                .collect();
            declared.extend(closing.map(describe_edge));
            let (file, line) = closing.map_or((String::new(), None), |e| (e.path.clone(), e.line));
            let message = format!(
                "dependency cycle: {} ({})",
                path.join(" → "),
                declared.join("; ")
            );
            self.problems.push(match line {
                Some(line) => Problem::at(file, line, message),
                None => Problem::file(file, message),
            });
        }
    }
    fn describe_edge(edge: &Edge) -> String {
        match edge.line {
            Some(line) => format!("→ {} at {}:{line}", edge.to, edge.path),
            None => format!("→ {} in {}", edge.to, edge.path),
        }
    }
    let mut walk = Walk {
        edges,
        state: HashMap::new(),
        stack: Vec::new(),
        order: Vec::new(),
        problems,
    };
    for root in roots {
        walk.visit(root, None);
    }
    walk.order
}
