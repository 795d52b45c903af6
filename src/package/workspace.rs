//! Finding the packages of a workspace, the way pgpm does: a folder with a
//! `pgpm.json` lists package globs (`"packages": ["packages/*"]`); a folder
//! with a `*.control` file is a package itself; installed modules live below
//! `extensions/` (also `extensions/@scope/name`). A package is named by its
//! control file.

use super::source::{EntryKind, Source, join};
use super::{Package, Problem, Problems, load_package};
use std::collections::BTreeMap;

pub struct Workspace {
    pub source: Source,
    /// Sorted by name.
    pub packages: Vec<Package>,
    /// Packages found but not loaded because of problems: others may still
    /// name them, and must not take them for native extensions.
    pub broken: Vec<String>,
}

impl Workspace {
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// A package that exists but could not be loaded.
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|b| b == name)
    }
}

/// Find and load every package of the source. Problems of all packages are
/// returned together with what could be loaded, so that checks across
/// packages can still run and report theirs.
pub fn load_workspace(source: Source) -> (Workspace, Problems) {
    let mut problems = Problems::default();
    let dirs = package_dirs(&source, &mut problems);
    let mut by_name: BTreeMap<String, Package> = BTreeMap::new();
    let mut broken = Vec::new();
    for (dir, control_file) in dirs {
        let Some(package) = load_package(&source, &dir, &control_file, &mut problems) else {
            broken.push(control_file.trim_end_matches(".control").to_owned());
            continue;
        };
        if let Some(other) = by_name.get(&package.name) {
            problems.push(Problem::file(
                source.display_path(&join(&dir, &control_file)),
                format!(
                    "package `{}` is also defined in `{}`: package names must be unique in a workspace",
                    package.name,
                    source.display_path(&other.dir)
                ),
            ));
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
        },
        problems,
    )
}

/// `(folder, control file name)` of every package, without duplicates.
fn package_dirs(source: &Source, problems: &mut Problems) -> Vec<(String, String)> {
    let mut candidates: Vec<String> = Vec::new();
    let root_entries = list_or_report(source, "", problems);
    let has_manifest = root_entries.contains(&("pgpm.json".to_owned(), EntryKind::File));
    let root_is_package = root_entries
        .iter()
        .any(|(name, kind)| *kind == EntryKind::File && name.ends_with(".control"));
    if !has_manifest && !root_is_package {
        problems.push(Problem::file(
            source.describe(),
            "not a pgpm package or workspace: no pgpm.json and no *.control file here",
        ));
        return Vec::new();
    }
    if root_is_package {
        candidates.push(String::new());
    }
    if has_manifest {
        for pattern in manifest_patterns(source, problems) {
            candidates.extend(expand_glob(source, &pattern, problems));
        }
    }
    find_modules(source, "extensions", &mut candidates, problems);

    let mut dirs: Vec<(String, String)> = Vec::new();
    for dir in candidates {
        if dirs.iter().any(|(d, _)| *d == dir) {
            continue;
        }
        let controls: Vec<String> = list_or_report(source, &dir, problems)
            .into_iter()
            .filter(|(name, kind)| *kind == EntryKind::File && name.ends_with(".control"))
            .map(|(name, _)| name)
            .collect();
        match controls.as_slice() {
            [] => {}
            [control] => dirs.push((dir, control.clone())),
            _ => problems.push(Problem::file(
                source.display_path(&dir),
                format!(
                    "more than one control file ({}): a package folder has exactly one",
                    controls.join(", ")
                ),
            )),
        }
    }
    if dirs.is_empty() && problems.is_empty() {
        problems.push(Problem::file(
            source.describe(),
            "the workspace has no packages",
        ));
    }
    dirs
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

/// Below `extensions/`, every folder with a control file is a module; its
/// own sub-folders are not searched further.
fn find_modules(source: &Source, dir: &str, out: &mut Vec<String>, problems: &mut Problems) {
    let entries = list_or_report(source, dir, problems);
    if entries
        .iter()
        .any(|(n, k)| *k == EntryKind::File && n.ends_with(".control"))
    {
        out.push(dir.to_owned());
        return;
    }
    for (name, kind) in entries {
        if kind == EntryKind::Dir && !is_skipped(&name) {
            find_modules(source, &join(dir, &name), out, problems);
        }
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
