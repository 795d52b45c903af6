//! `jobsctl init`: a new package folder, or a new workspace.
//!
//! A package is `pgpm.plan` (pragmas, then a blank line, as pgpm writes
//! them), `<name>.control`, empty `deploy/`, `revert/` and `verify/`
//! folders, a README and a `.gitattributes`. Inside a workspace (a
//! `pgpm.json` in the folder or above) the package goes to
//! `<workspace>/packages/<name>`. A workspace is `pgpm.json`
//! (`{"packages": ["packages/*"]}`), an empty `packages/`, a README and a
//! `.gitattributes`.

use super::Error;
use super::locate::{find_package, find_workspace_root};
use super::{
    Files, GITATTRIBUTES, create_dir, is_missing_or_empty, quote_control_value, write_new,
};
use crate::package::parse_control;
use crate::plan::{self, validate_project_name};
use serde::Serialize;
use std::path::Path;

/// The plan syntax pgpm writes and jobsctl reads.
const SYNTAX_VERSION: &str = "1.0.0";

/// The version a new package starts at.
pub const INITIAL_VERSION: &str = "0.0.1";

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub name: String,
    /// Create a workspace instead of a package.
    pub workspace: bool,
    /// Control-file `requires`; empty means `plpgsql`.
    pub requires: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Created {
    Package,
    Workspace,
}

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub created: Created,
    pub name: String,
    pub path: String,
    /// The workspace the package was created in, if any.
    pub workspace: Option<String>,
    pub files: Files,
    /// Things the user should know (also printed on stderr).
    pub warnings: Vec<String>,
}

/// Create a package or workspace named `options.name`, starting from `cwd`.
pub fn init(cwd: &Path, options: &InitOptions) -> Result<InitReport, Error> {
    let name = options.name.as_str();
    validate_project_name(name).map_err(|why| {
        Error::Usage(format!(
            "invalid name `{name}`: {why} (it names the package in plans, control files and the registry)"
        ))
    })?;
    if options.workspace {
        if !options.requires.is_empty() || options.comment.is_some() {
            return Err(Error::Usage(
                "--requires and --comment describe a package, not a workspace: create the workspace, then `jobsctl init <package>` inside it".into(),
            ));
        }
        return init_workspace(&cwd.join(name), name);
    }
    let workspace = find_workspace_root(cwd);
    let target = match &workspace {
        Some(root) => root.join("packages").join(name),
        None => cwd.join(name),
    };
    let mut warnings = Vec::new();
    if let Some(root) = &workspace {
        if let Some(existing) = find_package(root, name) {
            return Err(Error::Usage(format!(
                "workspace {} already has a package named `{name}` ({}): package names must be unique in a workspace",
                root.display(),
                existing.display()
            )));
        }
        if let Some(warning) = manifest_misses(root, name) {
            warnings.push(warning);
        }
    }
    refuse_non_empty(&target)?;
    let control = control_text(name, options)?;
    let plan_text = plan_text(name);
    debug_assert!(plan::parse(&plan_text).is_ok());

    let mut files = Files::default();
    create_dir(&target)?;
    write_new(&target.join("pgpm.plan"), plan_text.as_bytes(), &mut files)?;
    write_new(
        &target.join(format!("{name}.control")),
        control.as_bytes(),
        &mut files,
    )?;
    for folder in ["deploy", "revert", "verify"] {
        let path = target.join(folder);
        create_dir(&path)?;
        files.push(&path, super::FileAction::Created);
    }
    write_new(
        &target.join("README.md"),
        package_readme(name).as_bytes(),
        &mut files,
    )?;
    write_new(
        &target.join(".gitattributes"),
        GITATTRIBUTES.as_bytes(),
        &mut files,
    )?;
    Ok(InitReport {
        created: Created::Package,
        name: name.to_owned(),
        path: target.display().to_string(),
        workspace: workspace.map(|w| w.display().to_string()),
        files,
        warnings,
    })
}

fn init_workspace(target: &Path, name: &str) -> Result<InitReport, Error> {
    refuse_non_empty(target)?;
    let mut files = Files::default();
    create_dir(target)?;
    let manifest = serde_json::to_string_pretty(&serde_json::json!({ "packages": ["packages/*"] }))
        .expect("a JSON literal serialises")
        + "\n";
    write_new(&target.join("pgpm.json"), manifest.as_bytes(), &mut files)?;
    let packages = target.join("packages");
    create_dir(&packages)?;
    files.push(&packages, super::FileAction::Created);
    write_new(
        &target.join("README.md"),
        workspace_readme(name).as_bytes(),
        &mut files,
    )?;
    write_new(
        &target.join(".gitattributes"),
        GITATTRIBUTES.as_bytes(),
        &mut files,
    )?;
    Ok(InitReport {
        created: Created::Workspace,
        name: name.to_owned(),
        path: target.display().to_string(),
        workspace: None,
        files,
        warnings: Vec::new(),
    })
}

fn refuse_non_empty(target: &Path) -> Result<(), Error> {
    if is_missing_or_empty(target)? {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{}: already exists and is not empty: choose another name, or remove or empty that folder",
            target.display()
        )))
    }
}

/// `%syntax-version`, `%project`, `%uri`, then a blank line: what pgpm writes.
pub fn plan_text(name: &str) -> String {
    format!(
        "%syntax-version={}\n%project={name}\n%uri={name}\n\n",
        SYNTAX_VERSION
    )
}

/// The control file, checked with the parser that reads it back.
fn control_text(name: &str, options: &InitOptions) -> Result<String, Error> {
    let requires: Vec<&str> = if options.requires.is_empty() {
        vec!["plpgsql"]
    } else {
        options.requires.iter().map(|r| r.trim()).collect()
    };
    if requires.contains(&name) {
        return Err(Error::Usage(format!(
            "--requires {name}: a package cannot require itself"
        )));
    }
    let comment = options
        .comment
        .clone()
        .unwrap_or_else(|| format!("{name} extension"));
    if comment.contains(['\n', '\r']) {
        return Err(Error::Usage(
            "--comment: a control-file comment is one line".into(),
        ));
    }
    let text = format!(
        "# {name} extension\ncomment = {}\ndefault_version = '{INITIAL_VERSION}'\nrequires = {}\nrelocatable = false\nsuperuser = false\n",
        quote_control_value(&comment),
        quote_control_value(&requires.join(", ")),
    );
    match parse_control(&text) {
        Ok(_) => Ok(text),
        Err(diagnostics) => Err(Error::Usage(format!(
            "--requires {}: {}",
            requires.join(","),
            diagnostics
                .into_iter()
                .map(|d| d.message)
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// A warning when the workspace's `pgpm.json` globs do not reach
/// `packages/<name>` (then neither jobsctl nor pgpm would find the package
/// through the manifest).
fn manifest_misses(root: &Path, name: &str) -> Option<String> {
    let manifest = root.join("pgpm.json");
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).ok()?).ok()?;
    let patterns: Vec<String> = value
        .get("packages")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let relative = format!("packages/{name}");
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    let covered = patterns.iter().any(|p| {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        glob::Pattern::new(p).is_ok_and(|g| g.matches_with(&relative, options))
    });
    (!covered).then(|| {
        format!(
            "{}: `packages` ({}) does not match {relative}: add \"packages/*\" so that jobsctl and pgpm find the package",
            manifest.display(),
            patterns.join(", ")
        )
    })
}

fn package_readme(name: &str) -> String {
    format!(
        "# {name}

A pgpm package: PostgreSQL changes listed in `pgpm.plan`, in deploy order,
each with a deploy, a revert and a verify script. jobsctl and pgpm both
deploy it and record it in the same `pgpm_migrate` registry.

| file | what it holds |
|---|---|
| `pgpm.plan` | the changes, in order, with their dependencies, planner and note; `@tags` mark releases |
| `{name}.control` | `requires`: the native extensions and packages this one needs; `default_version` |
| `deploy/<change>.sql` | creates the change's objects |
| `revert/<change>.sql` | removes them again |
| `verify/<change>.sql` | fails when they are missing (run in a transaction that is rolled back) |

```sh
jobsctl add <change> [--requires <change>]... [--note <text>]   # plan a change, create its scripts
jobsctl tag <version> [--note <text>]                          # mark the last change as a release
jobsctl plan -w <workspace>                                    # check everything, show the deploy order
jobsctl deploy -w <workspace> -d <database>                    # then verify, status, revert
```

Dependencies on other packages are written `package:change` or
`package:@tag` and the package is listed in `requires` of the control file.
Keep `.gitattributes`: the registry stores the SHA-256 of each deploy
script's bytes, so line endings must not change on checkout.
"
    )
}

fn workspace_readme(name: &str) -> String {
    format!(
        "# {name}

A pgpm workspace: `pgpm.json` lists where its packages live
(`packages/*`); modules installed from elsewhere live under `extensions/`.

```sh
jobsctl init <package>                 # inside the workspace: creates packages/<package>
jobsctl add <change> -C packages/<package>
jobsctl plan -w .                      # every package, in dependency order
jobsctl deploy -w . -d <database>
```

Keep `.gitattributes`: the registry stores the SHA-256 of each deploy
script's bytes, so line endings must not change on checkout.
"
    )
}
