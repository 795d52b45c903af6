//! `jobsctl export`: the embedded workspace as a pgpm workspace on disk.
//!
//! Layout, as pgpm lays out a workspace: the package of the embedded
//! workspace's root (`pgpm-jobs`) becomes `packages/pgpm-jobs/` (pgpm.json:
//! `{"packages": ["packages/*"]}`), and its dependencies stay where pgpm
//! puts installed modules, under `extensions/` (`extensions/pgpm-verify/`,
//! `extensions/pgpm-default-roles/`). Both jobsctl (`extensions/` is
//! searched for modules) and pgpm (every `*.control` below the workspace is
//! a module) find all three.
//!
//! Every file is written byte for byte as embedded, so the registry's
//! script hashes match: a database deployed from the embedded workspace
//! shows no drift when deployed from the export. The export is loaded back
//! with the workspace loader and its hashes compared before the command
//! reports success.

use super::Error;
use super::{Files, GITATTRIBUTES, is_missing_or_empty, write_error, write_file};
use crate::package::{Source, Workspace, load_workspace};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct ExportReport {
    pub path: String,
    pub packages: Vec<ExportedPackage>,
    pub files: Files,
}

#[derive(Debug, Serialize)]
pub struct ExportedPackage {
    pub name: String,
    pub version: Option<String>,
    /// The package folder relative to the export, e.g. `packages/pgpm-jobs`.
    pub dir: String,
    pub changes: usize,
}

/// Write the embedded workspace into `target` (see the module docs).
pub fn export(target: &Path, force: bool) -> Result<ExportReport, Error> {
    if !is_missing_or_empty(target)? && !force {
        return Err(Error::Usage(format!(
            "{}: not empty: export into a new or empty folder, or pass --force to write into it (files of the same path are replaced, other files are kept)",
            target.display()
        )));
    }
    let (workspace, problems) = load_workspace(Source::embedded());
    if !problems.is_empty() {
        return Err(Error::InvalidWorkspace {
            workspace: workspace.source.describe(),
            problems,
        });
    }
    let Source::Embedded(embedded) = &workspace.source else {
        unreachable!("loaded from Source::embedded()");
    };
    let mut files = Files::default();
    let manifest = serde_json::to_string_pretty(&serde_json::json!({ "packages": ["packages/*"] }))
        .expect("a JSON literal serialises")
        + "\n";
    write_file(&target.join("pgpm.json"), manifest.as_bytes(), &mut files)?;
    write_file(
        &target.join(".gitattributes"),
        GITATTRIBUTES.as_bytes(),
        &mut files,
    )?;
    write_file(
        &target.join("README.md"),
        readme(&workspace).as_bytes(),
        &mut files,
    )?;
    for (path, bytes) in embedded {
        write_file(
            &target.join(exported_path(&workspace, path)),
            bytes,
            &mut files,
        )?;
    }
    let packages = check(&workspace, target)?;
    Ok(ExportReport {
        path: target.display().to_string(),
        packages,
        files,
    })
}

/// Where a package folder of the embedded workspace goes in the export.
fn exported_dir(name: &str, dir: &str) -> String {
    if dir.is_empty() {
        format!("packages/{name}")
    } else {
        dir.to_owned()
    }
}

/// Where an embedded file goes: into the folder of the package it belongs
/// to (the one with the longest matching folder).
fn exported_path(workspace: &Workspace, path: &str) -> String {
    let owner = workspace
        .packages
        .iter()
        .filter(|p| p.dir.is_empty() || path.starts_with(&format!("{}/", p.dir)))
        .max_by_key(|p| p.dir.len());
    match owner {
        Some(package) => {
            let rest = path
                .strip_prefix(&package.dir)
                .unwrap_or(path)
                .trim_start_matches('/');
            format!("{}/{rest}", exported_dir(&package.name, &package.dir))
        }
        None => path.to_owned(),
    }
}

/// Load the export back and compare it with the embedded workspace: the
/// same packages, where the layout says, with the same script hashes.
fn check(embedded: &Workspace, target: &Path) -> Result<Vec<ExportedPackage>, Error> {
    let (exported, problems) = load_workspace(Source::disk(target));
    let failed = |message: String| write_error(target, message);
    let mut out = Vec::new();
    for package in &embedded.packages {
        let dir = exported_dir(&package.name, &package.dir);
        let Some(copy) = exported.package(&package.name) else {
            let own: Vec<String> = problems
                .0
                .iter()
                .filter(|p| p.path.contains(&dir))
                .map(ToString::to_string)
                .collect();
            return Err(failed(format!(
                "the exported package `{}` does not load back: {}",
                package.name,
                if own.is_empty() {
                    "it was not found".to_owned()
                } else {
                    own.join("; ")
                }
            )));
        };
        if copy.dir != dir {
            return Err(failed(format!(
                "package `{}` was found in {}, not in {dir}: another package of that name is in the folder",
                package.name, copy.dir
            )));
        }
        for (original, scripts) in package.scripts.iter().zip(&copy.scripts) {
            if original.deploy.sha256() != scripts.deploy.sha256() {
                return Err(failed(format!(
                    "{} does not hash like the embedded {}",
                    scripts.deploy.display_path, original.deploy.path
                )));
            }
        }
        if copy.plan.changes.len() != package.plan.changes.len() {
            return Err(failed(format!(
                "{}/pgpm.plan does not read back with the embedded plan's changes",
                dir
            )));
        }
        out.push(ExportedPackage {
            name: package.name.clone(),
            version: package.version().map(str::to_owned),
            dir,
            changes: package.plan.changes.len(),
        });
    }
    Ok(out)
}

fn readme(workspace: &Workspace) -> String {
    let mut text = String::from(
        "# The jobsctl workspace

Written by `jobsctl export`: the packages jobsctl embeds, as a pgpm
workspace that jobsctl and pgpm both deploy.

| package | version | folder |
|---|---|---|
",
    );
    for package in &workspace.packages {
        text.push_str(&format!(
            "| `{}` | {} | `{}/` |\n",
            package.name,
            package.version().unwrap_or("-"),
            exported_dir(&package.name, &package.dir)
        ));
    }
    text.push_str(
        "
```sh
jobsctl plan -w .                        # check, and show the deploy order
jobsctl deploy -w . -d <database>        # or: pgpm deploy, from this folder
jobsctl init <package>                   # a package of your own, in packages/
```

The scripts are byte for byte those jobsctl embeds, so a database deployed
by jobsctl from its embedded copy shows no drift when deployed from here.
Keep `.gitattributes`: the registry stores the SHA-256 of each deploy
script's bytes, so line endings must not change on checkout.
",
    );
    text
}
