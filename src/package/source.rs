//! Where package files come from: the workspace embedded in the binary, or a
//! directory on disk. Both answer the same two questions (read a file, list
//! a folder) with paths relative to the workspace root, `/`-separated.

use include_dir::{Dir, include_dir};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

/// The files of the embedded workspace: the `pgpm-jobs` package at the
/// repository root and its dependencies under `extensions/`. `build.rs`
/// makes cargo rebuild when any of them changes.
static EMBEDDED_DEPLOY: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/deploy");
static EMBEDDED_REVERT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/revert");
static EMBEDDED_VERIFY: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/verify");
static EMBEDDED_EXTENSIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/extensions");
const EMBEDDED_ROOT_FILES: [(&str, &[u8]); 2] = [
    ("pgpm.plan", include_bytes!("../../pgpm.plan")),
    (
        "pgpm-jobs.control",
        include_bytes!("../../pgpm-jobs.control"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Dir,
}

pub enum Source {
    Embedded(BTreeMap<String, &'static [u8]>),
    Disk(PathBuf),
}

impl Source {
    pub fn embedded() -> Source {
        let mut files = BTreeMap::new();
        for (path, bytes) in EMBEDDED_ROOT_FILES {
            files.insert(path.to_owned(), bytes);
        }
        for (prefix, dir) in [
            ("deploy", &EMBEDDED_DEPLOY),
            ("revert", &EMBEDDED_REVERT),
            ("verify", &EMBEDDED_VERIFY),
            ("extensions", &EMBEDDED_EXTENSIONS),
        ] {
            collect_embedded(prefix, dir, &mut files);
        }
        Source::Embedded(files)
    }

    pub fn disk(root: impl Into<PathBuf>) -> Source {
        Source::Disk(root.into())
    }

    /// How to name the workspace to the user.
    pub fn describe(&self) -> String {
        match self {
            Source::Embedded(_) => "embedded workspace".to_owned(),
            Source::Disk(root) => root.display().to_string(),
        }
    }

    /// How to name a file of the workspace in messages: relative for the
    /// embedded workspace, the real path on disk.
    pub fn display_path(&self, relative: &str) -> String {
        match self {
            Source::Embedded(_) if relative.is_empty() => ".".to_owned(),
            Source::Embedded(_) => relative.to_owned(),
            Source::Disk(root) if relative.is_empty() => root.display().to_string(),
            Source::Disk(root) => root.join(relative).display().to_string(),
        }
    }

    /// The bytes of a file, or `None` when it does not exist (or is a folder).
    pub fn read(&self, relative: &str) -> io::Result<Option<Vec<u8>>> {
        match self {
            Source::Embedded(files) => Ok(files.get(relative).map(|b| b.to_vec())),
            Source::Disk(root) => {
                let path = root.join(relative);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(_) if path.is_dir() => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// The entries of a folder, sorted by name; empty when it does not exist.
    pub fn list(&self, relative: &str) -> io::Result<Vec<(String, EntryKind)>> {
        match self {
            Source::Embedded(files) => Ok(list_embedded(files, relative)),
            Source::Disk(root) => {
                let dir = root.join(relative);
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(e),
                };
                let mut out = Vec::new();
                for entry in entries {
                    let entry = entry?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue; // not UTF-8: cannot be a plan, control or script name
                    };
                    // Follow symlinks, as pgpm's file walking does.
                    let kind = if std::fs::metadata(entry.path())?.is_dir() {
                        EntryKind::Dir
                    } else {
                        EntryKind::File
                    };
                    out.push((name, kind));
                }
                out.sort();
                Ok(out)
            }
        }
    }
}

fn collect_embedded(
    prefix: &str,
    dir: &'static Dir<'static>,
    files: &mut BTreeMap<String, &'static [u8]>,
) {
    for file in dir.files() {
        files.insert(
            format!("{prefix}/{}", file.path().display()),
            file.contents(),
        );
    }
    for sub in dir.dirs() {
        collect_embedded(prefix, sub, files);
    }
}

fn list_embedded(
    files: &BTreeMap<String, &'static [u8]>,
    relative: &str,
) -> Vec<(String, EntryKind)> {
    let prefix = if relative.is_empty() {
        String::new()
    } else {
        format!("{relative}/")
    };
    let mut out: Vec<(String, EntryKind)> = Vec::new();
    for path in files.keys().filter_map(|k| k.strip_prefix(&prefix)) {
        let entry = match path.split_once('/') {
            Some((dir, _)) => (dir.to_owned(), EntryKind::Dir),
            None => (path.to_owned(), EntryKind::File),
        };
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Join two relative paths.
pub fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_workspace_lists_its_packages() {
        let source = Source::embedded();
        let root = source.list("").unwrap();
        assert!(root.contains(&("pgpm.plan".to_owned(), EntryKind::File)));
        assert!(root.contains(&("extensions".to_owned(), EntryKind::Dir)));
        let extensions: Vec<_> = source
            .list("extensions")
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(extensions, ["pgpm-default-roles", "pgpm-verify"]);
        assert!(
            source
                .read("extensions/pgpm-verify/pgpm.plan")
                .unwrap()
                .is_some()
        );
        assert!(source.read("extensions").unwrap().is_none());
        assert!(source.read("nope").unwrap().is_none());
    }
}
