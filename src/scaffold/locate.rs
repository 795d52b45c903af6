//! Finding things on disk without loading scripts: the workspace a folder
//! belongs to, a package of it by name, the package a folder is.
//!
//! `add` must be able to work on a package whose freshly added scripts are
//! still empty templates (which the full workspace loader refuses), so
//! these look only at `pgpm.json`, control files and plans.

use super::Error;
use std::path::{Path, PathBuf};

/// The nearest folder at or above `start` with a `pgpm.json` file.
pub fn find_workspace_root(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("pgpm.json").is_file())
        .map(Path::to_path_buf)
}

/// The folder of the package named `name` (a folder holding
/// `<name>.control`) below `root`, as pgpm finds modules: anywhere in the
/// tree, skipping hidden folders and `node_modules`.
pub fn find_package(root: &Path, name: &str) -> Option<PathBuf> {
    let control = format!("{name}.control");
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join(&control).is_file() {
            return Some(dir);
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut subdirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                !name.starts_with('.') && name != "node_modules"
            })
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        subdirs.sort();
        subdirs.reverse();
        stack.extend(subdirs);
    }
    None
}

/// A package folder: its control file's base name (the package name).
pub(crate) fn package_name_of(dir: &Path) -> Result<String, Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no such folder (pass the package folder with -C DIR)",
            dir.display()
        )));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Usage(format!("{}: cannot list: {e}", dir.display())))?;
    let mut controls: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".control").map(str::to_owned))
        .collect();
    controls.sort();
    match controls.as_slice() {
        [name] => Ok(name.clone()),
        [] => Err(Error::Usage(format!(
            "{}: not a pgpm package folder (no *.control file): run inside a package folder or pass -C DIR{}",
            dir.display(),
            if dir.join("pgpm.json").is_file() {
                " (this is a workspace; its packages are usually under packages/)"
            } else {
                ""
            }
        ))),
        _ => Err(Error::Usage(format!(
            "{}: more than one control file ({}): a package folder has exactly one",
            dir.display(),
            controls
                .iter()
                .map(|c| format!("{c}.control"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_packages_but_not_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("pgpm.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join("extensions/@scope/b")).unwrap();
        std::fs::write(root.join("extensions/@scope/b/b.control"), "").unwrap();
        std::fs::create_dir_all(root.join(".cache/c")).unwrap();
        std::fs::write(root.join(".cache/c/c.control"), "").unwrap();
        assert_eq!(
            find_package(root, "b"),
            Some(root.join("extensions/@scope/b"))
        );
        assert_eq!(find_package(root, "c"), None);
        std::fs::create_dir_all(root.join("packages/a/deploy")).unwrap();
        assert_eq!(
            find_workspace_root(&root.join("packages/a/deploy")),
            Some(root.to_path_buf())
        );
    }
}
