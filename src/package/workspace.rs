//! Finding the packages of a workspace, the way pgpm does: a folder with a
//! `pgpm.json` lists package globs (`"packages": ["packages/*"]`), and
//! installed modules live below `extensions/` (`extensions/NAME` and
//! `extensions/@scope/NAME`); below each of those folders every
//! `*.control` file (at any depth, outside `node_modules` and hidden
//! folders) is a module named by the file's base name. A folder with a
//! control file of its own and no `pgpm.json` is a package itself. Two
//! control files in one folder are two modules sharing its plan: one
//! package here. When two folders define the same module, the shorter path
//! wins, as in pgpm, with a warning. A package the workspace requires but
//! does not have is taken from the packages embedded in jobsctl when one
//! has that name.

use super::source::{EntryKind, Source, join};
use super::{Found, Origin, Package, Problem, Problems, load_package};
use std::collections::BTreeMap;

pub struct Workspace {
    pub source: Source,
    /// Sorted by name.
    pub packages: Vec<Package>,
    /// Module names found but not loaded because of problems: others may
    /// still name them, and must not take them for native extensions.
    pub broken: Vec<String>,
    /// What is accepted as pgpm accepts it but usually hides a mistake
    /// (`--strict` makes these errors).
    pub warnings: Problems,
}

impl Workspace {
    /// The package named `name`, or having a module of that name.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|p| p.name == name)
            .or_else(|| self.packages.iter().find(|p| p.answers_to(name)))
    }

    /// A package that exists but could not be loaded.
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|b| b == name)
    }

    /// Packages taken from the ones embedded in jobsctl.
    pub fn embedded(&self) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(|p| p.origin == Origin::Embedded)
    }
}

/// Find and load every package of the source. Problems of all packages are
/// returned together with what could be loaded, so that checks across
/// packages can still run and report theirs.
pub fn load_workspace(source: Source) -> (Workspace, Problems) {
    let mut found = Found::default();
    let folders = package_folders(&source, &mut found);
    let (mut packages, mut broken) = load_folders(&source, folders, &mut found);
    if matches!(source, Source::Disk(_)) {
        add_embedded(&mut packages, &broken);
    }
    let mut by_name: BTreeMap<String, Package> = BTreeMap::new();
    for package in packages {
        if let Some(other) = by_name.get(&package.name) {
            found.problems.push(Problem::file(
                package.display_control_path(),
                format!(
                    "package `{}` is also defined in `{}`: package names (`%project`) must be unique in a workspace",
                    package.name,
                    other.display_dir
                ),
            ));
            broken.extend(package.modules);
            continue;
        }
        by_name.insert(package.name.clone(), package);
    }
    let packages = by_name.into_values().collect();
    (
        Workspace {
            source,
            packages,
            broken,
            warnings: found.warnings,
        },
        found.problems,
    )
}

/// One package folder: its control files (sorted) and where it was found.
struct Folder {
    dir: String,
    control_files: Vec<String>,
    origin: Origin,
}

fn load_folders(
    source: &Source,
    folders: Vec<Folder>,
    found: &mut Found,
) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut broken = Vec::new();
    for folder in folders {
        match load_package(
            source,
            &folder.dir,
            &folder.control_files,
            folder.origin,
            found,
        ) {
            Some(package) => packages.push(package),
            None => broken.extend(
                folder
                    .control_files
                    .iter()
                    .map(|f| f.trim_end_matches(".control").to_owned()),
            ),
        }
    }
    (packages, broken)
}

/// Packages that the workspace's packages require (control `requires`,
/// `project:change` references) but that it does not have, taken from the
/// embedded workspace, and theirs in turn. A copy in the workspace wins.
fn add_embedded(packages: &mut Vec<Package>, broken: &[String]) {
    let embedded = Source::embedded();
    let mut embedded_found = Found::default();
    let folders = package_folders(&embedded, &mut embedded_found);
    let (available, _) = load_folders(&embedded, folders, &mut embedded_found);
    debug_assert!(
        embedded_found.problems.is_empty(),
        "{:?}",
        embedded_found.problems
    );
    let mut available: Vec<Option<Package>> = available.into_iter().map(Some).collect();
    loop {
        let has = |name: &str| {
            packages.iter().any(|p| p.answers_to(name)) || broken.iter().any(|b| b == name)
        };
        let wanted: Vec<String> = packages
            .iter()
            .flat_map(|p| {
                let own = p.name.as_str();
                p.control.requires.iter().cloned().chain(
                    p.plan
                        .changes
                        .iter()
                        .flat_map(|c| &c.dependencies)
                        .map(move |d| d.project_or(own).to_owned()),
                )
            })
            .filter(|name| !has(name))
            .collect();
        let mut added = false;
        for name in wanted {
            let Some(slot) = available
                .iter_mut()
                .find(|p| p.as_ref().is_some_and(|p| p.answers_to(&name)))
            else {
                continue;
            };
            let mut package = slot.take().expect("found above");
            package.origin = Origin::Embedded;
            package.relabel("embedded:");
            packages.push(package);
            added = true;
        }
        if !added {
            break;
        }
    }
}

/// Every package folder with its control files, without duplicates; of two
/// control files naming the same module the one with the shorter path wins.
fn package_folders(source: &Source, found: &mut Found) -> Vec<Folder> {
    let problems = &mut found.problems;
    let root_entries = list_or_report(source, "", problems);
    let has_manifest = root_entries.contains(&("pgpm.json".to_owned(), EntryKind::File));
    let root_controls = control_files_in(&root_entries);
    if !has_manifest && root_controls.is_empty() {
        problems.push(Problem::file(
            source.describe(),
            "not a pgpm package or workspace: no pgpm.json and no *.control file here",
        ));
        return Vec::new();
    }
    // (control file path, origin), in discovery order.
    let mut controls: Vec<(String, Origin)> = root_controls
        .into_iter()
        .map(|f| (f, Origin::Workspace))
        .collect();
    let mut roots: Vec<(String, Origin)> = Vec::new();
    if has_manifest {
        for pattern in manifest_patterns(source, problems) {
            roots.extend(
                expand_glob(source, &pattern, problems)
                    .into_iter()
                    .map(|d| (d, Origin::Workspace)),
            );
        }
    }
    for pattern in ["extensions/*", "extensions/@*/*"] {
        roots.extend(
            expand_glob(source, pattern, problems)
                .into_iter()
                .map(|d| (d, Origin::Installed)),
        );
    }
    let mut searched: Vec<String> = Vec::new();
    for (dir, origin) in roots {
        if searched.contains(&dir) {
            continue;
        }
        let mut files = Vec::new();
        find_control_files(source, &dir, &mut files, problems);
        searched.push(dir);
        for file in files {
            if file.ends_with(APPLY_SPEC) {
                found.warnings.push(Problem::file(
                    source.display_path(&file),
                    "pgpm.apply.json proxy modules (a module pgpm transpiles from another) are not supported: this folder is not deployed, and a package that requires it will find no such module",
                ));
            } else {
                controls.push((file, origin));
            }
        }
    }
    controls.sort_by(|a, b| a.0.cmp(&b.0));
    controls.dedup_by(|a, b| a.0 == b.0);

    // One control file per module name: the shortest path (pgpm's rule).
    let mut by_module: BTreeMap<String, (String, Origin)> = BTreeMap::new();
    for (path, origin) in controls {
        let module = module_name(&path).to_owned();
        match by_module.get(&module) {
            Some((kept, _)) if kept.len() <= path.len() => {
                found.warnings.push(Problem::file(
                    source.display_path(&path),
                    format!(
                        "module `{module}` is also defined by `{}`: the shorter path wins, as in pgpm; this one is ignored",
                        source.display_path(kept)
                    ),
                ));
            }
            Some((kept, _)) => {
                found.warnings.push(Problem::file(
                    source.display_path(kept),
                    format!(
                        "module `{module}` is also defined by `{}`: the shorter path wins, as in pgpm; this one is ignored",
                        source.display_path(&path)
                    ),
                ));
                by_module.insert(module, (path, origin));
            }
            None => {
                by_module.insert(module, (path, origin));
            }
        }
    }
    let mut folders: Vec<Folder> = Vec::new();
    for (path, origin) in by_module.into_values() {
        let (dir, file) = match path.rsplit_once('/') {
            Some((dir, file)) => (dir.to_owned(), file.to_owned()),
            None => (String::new(), path),
        };
        match folders.iter_mut().find(|f| f.dir == dir) {
            Some(folder) => folder.control_files.push(file),
            None => folders.push(Folder {
                dir,
                control_files: vec![file],
                origin,
            }),
        }
    }
    for folder in &mut folders {
        folder.control_files.sort();
    }
    folders.sort_by(|a, b| a.dir.cmp(&b.dir));
    if folders.is_empty() && found.problems.is_empty() {
        found.problems.push(Problem::file(
            source.describe(),
            "the workspace has no packages",
        ));
    }
    folders
}

fn module_name(control_path: &str) -> &str {
    let file = control_path.rsplit('/').next().unwrap_or(control_path);
    file.strip_suffix(".control").unwrap_or(file)
}

fn control_files_in(entries: &[(String, EntryKind)]) -> Vec<String> {
    entries
        .iter()
        .filter(|(name, kind)| *kind == EntryKind::File && is_control_file(name))
        .map(|(name, _)| name.clone())
        .collect()
}

fn is_control_file(name: &str) -> bool {
    name.len() > ".control".len() && name.ends_with(".control")
}

/// pgpm's proxy module spec.
const APPLY_SPEC: &str = "pgpm.apply.json";

/// Every `*.control` file at or below `dir` (pgpm's `**/*.control`), and
/// every `pgpm.apply.json`: hidden folders and `node_modules` are not
/// searched.
fn find_control_files(source: &Source, dir: &str, out: &mut Vec<String>, problems: &mut Problems) {
    let entries = list_or_report(source, dir, problems);
    out.extend(control_files_in(&entries).iter().map(|f| join(dir, f)));
    if entries.contains(&(APPLY_SPEC.to_owned(), EntryKind::File)) {
        out.push(join(dir, APPLY_SPEC));
    }
    for (name, kind) in entries {
        if kind == EntryKind::Dir && !is_skipped(&name) {
            find_control_files(source, &join(dir, &name), out, problems);
        }
    }
}

fn manifest_patterns(source: &Source, problems: &mut Problems) -> Vec<String> {
    let path = source.display_path("pgpm.json");
    let bytes = match source.read("pgpm.json") {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Vec::new(),
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read: {e}")));
            return Vec::new();
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => {
            problems.push(Problem::at_column(
                path,
                e.line(),
                e.column(),
                format!("invalid JSON: {e}"),
            ));
            return Vec::new();
        }
    };
    match value.get("packages") {
        None => Vec::new(),
        Some(serde_json::Value::Array(items)) => {
            let patterns: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if patterns.len() != items.len() {
                problems.push(Problem::file(
                    path,
                    "`packages` must be an array of glob strings",
                ));
            }
            patterns
        }
        Some(_) => {
            problems.push(Problem::file(
                path,
                "`packages` must be an array of glob strings",
            ));
            Vec::new()
        }
    }
}

/// Folders matching a `/`-separated glob (`*`, `?`, `[...]` within a
/// segment, `**` for any depth) relative to the root.
fn expand_glob(source: &Source, pattern: &str, problems: &mut Problems) -> Vec<String> {
    let segments: Vec<&str> = pattern
        .trim_start_matches("./")
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if segments.contains(&"..") || pattern.starts_with('/') {
        problems.push(Problem::file(
            source.display_path("pgpm.json"),
            format!("package glob `{pattern}` leaves the workspace"),
        ));
        return Vec::new();
    }
    let mut out = Vec::new();
    match_segments(source, "", &segments, &mut out, problems);
    out
}

fn match_segments(
    source: &Source,
    dir: &str,
    segments: &[&str],
    out: &mut Vec<String>,
    problems: &mut Problems,
) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(dir.to_owned());
        return;
    };
    let subdirs = || {
        list_or_report(source, dir, &mut Problems::default())
            .into_iter()
            .filter(|(name, kind)| *kind == EntryKind::Dir && !is_skipped(name))
            .map(|(name, _)| name)
    };
    if *first == "**" {
        match_segments(source, dir, rest, out, problems);
        for name in subdirs() {
            match_segments(source, &join(dir, &name), segments, out, problems);
        }
        return;
    }
    let pattern = match glob::Pattern::new(first) {
        Ok(pattern) => pattern,
        Err(e) => {
            problems.push(Problem::file(
                source.display_path("pgpm.json"),
                format!("invalid glob `{first}`: {e}"),
            ));
            return;
        }
    };
    for name in subdirs().filter(|name| pattern.matches(name)) {
        match_segments(source, &join(dir, &name), rest, out, problems);
    }
}

fn is_skipped(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules"
}

fn list_or_report(source: &Source, dir: &str, problems: &mut Problems) -> Vec<(String, EntryKind)> {
    source.list(dir).unwrap_or_else(|e| {
        problems.push(Problem::file(
            source.display_path(dir),
            format!("cannot list: {e}"),
        ));
        Vec::new()
    })
}
