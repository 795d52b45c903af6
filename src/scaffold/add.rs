//! `jobsctl add` and `jobsctl tag`: grow a package's plan by one line.
//!
//! The line is appended to the plan file as it is, so the user's comments,
//! blank lines and line endings stay; its text is the plan writer's
//! canonical line ([`write_change_line`], [`write_tag_line`]). The grown
//! text is parsed again before anything is written, and must give back
//! exactly the entry meant; then the plan is replaced atomically.
//!
//! Dependencies of `add`: a local `change` or `@tag` must already be in the
//! plan (a change can only depend on changes above it). A `package:change`
//! or `package:@tag` is checked against that package's plan when the
//! package is found in the enclosing workspace (anywhere below the folder
//! with `pgpm.json`, as pgpm finds modules); when it is not (no workspace,
//! or the package is not installed yet) the dependency is accepted with a
//! warning, because the package may legitimately live elsewhere until
//! deploy time, where a missing package is an error.

use super::Error;
use super::locate::{find_package, find_workspace_root, package_name_of};
use super::planner::Planner;
use super::{FileAction, Files, read_text, write_atomic, write_new};
use crate::package::{Problem, Problems, parse_control};
use crate::plan::{
    self, Change, Dependency, Plan, Planned, Tag, Target, Timestamp, validate_change_name,
    validate_tag_name, write_change_line, write_tag_line,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    pub change: String,
    pub requires: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TagOptions {
    /// With or without the leading `@`.
    pub name: String,
    /// Must be the last change when given.
    pub change: Option<String>,
    pub note: Option<String>,
}

/// What `add` or `tag` did.
#[derive(Debug, Serialize)]
pub struct PlanEdit {
    pub package: String,
    /// The change added, or the change the tag marks.
    pub change: String,
    /// The tag added (`tag` only), without `@`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub plan: String,
    /// The line appended, and its 1-based number in the plan file.
    pub line: String,
    pub line_number: usize,
    pub planner: Planner,
    pub files: Files,
    pub warnings: Vec<String>,
}

/// A package's plan, read and parsed.
struct PlanFile {
    dir: PathBuf,
    package: String,
    path: PathBuf,
    text: String,
    plan: Plan,
}

impl PlanFile {
    fn open(dir: &Path) -> Result<PlanFile, Error> {
        let package = package_name_of(dir)?;
        let path = dir.join("pgpm.plan");
        let text = read_text(&path)?;
        let plan = plan::parse(&text).map_err(|diagnostics| {
            let mut problems = Problems::default();
            problems.extend_diagnostics(&path.display().to_string(), diagnostics);
            problems.push(Problem::file(
                path.display().to_string(),
                "the plan must be valid before a line is added to it; nothing was written",
            ));
            Error::InvalidWorkspace {
                workspace: dir.display().to_string(),
                problems,
            }
        })?;
        if plan.project() != package {
            return Err(Error::Usage(format!(
                "{}: `%project={}` does not match the control file `{package}.control`: pgpm names the package `{package}`; fix the plan first",
                path.display(),
                plan.project()
            )));
        }
        Ok(PlanFile {
            dir: dir.to_path_buf(),
            package,
            path,
            text,
            plan,
        })
    }

    fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }

    /// The plan text with `line` appended, checked by parsing it again;
    /// `check` must accept the parsed result. Returns the text and the
    /// 1-based number of the new line.
    fn grown(&self, line: &str, check: impl Fn(&Plan) -> bool) -> Result<(String, usize), Error> {
        let newline = if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let mut text = self.text.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push_str(newline);
        }
        // pgpm separates the pragmas from the first change by a blank line.
        let body = text.trim_end_matches(['\r', '\n']);
        if self.plan.changes.is_empty()
            && !body.is_empty()
            && !text.ends_with("\n\n")
            && !text.ends_with("\r\n\r\n")
        {
            text.push_str(newline);
        }
        let number = text.matches('\n').count() + 1;
        text.push_str(line);
        text.push_str(newline);
        match plan::parse(&text) {
            Ok(plan) if check(&plan) => Ok((text, number)),
            Ok(_) => Err(Error::Usage(format!(
                "{}: after appending `{line}`, the plan does not read back as intended; nothing was written",
                self.path.display()
            ))),
            Err(diagnostics) => Err(Error::Usage(format!(
                "{}: after appending `{line}`, the plan would not be valid ({}); nothing was written",
                self.path.display(),
                diagnostics
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }
}

/// Add a change to the plan of the package in `dir` and create its scripts.
pub fn add(
    dir: &Path,
    options: &AddOptions,
    planner: &Planner,
    now: Timestamp,
) -> Result<PlanEdit, Error> {
    let plan_file = PlanFile::open(dir)?;
    let name = options.change.trim();
    validate_change_name(name)
        .map_err(|why| Error::Usage(format!("invalid change name `{name}`: {why}")))?;
    if let Some(existing) = plan_file.plan.change(name) {
        return Err(Error::Usage(format!(
            "change `{name}` is already planned at {}: give the new change its own name",
            plan_file.at(existing.line)
        )));
    }
    let note = check_note(options.note.as_deref())?;
    let mut warnings = Vec::new();
    let dependencies = dependencies(&plan_file, &options.requires, &mut warnings)?;
    let change = Change {
        name: name.to_owned(),
        dependencies,
        planned: Some(planned(planner, now)),
        note,
        tags: Vec::new(),
        line: 0,
    };
    let line = write_change_line(&change);
    let (text, line_number) = plan_file.grown(&line, |plan| {
        plan.changes.last().is_some_and(|last| {
            last.name == change.name
                && last.dependencies == change.dependencies
                && last.planned == change.planned
                && last.note == change.note
        })
    })?;

    let mut files = Files::default();
    for (folder, body) in [
        ("deploy", deploy_template(&plan_file.package, &change)),
        ("revert", revert_template(&plan_file.package, name)),
        ("verify", verify_template(&plan_file.package, name)),
    ] {
        let path = dir.join(folder).join(format!("{name}.sql"));
        if path.exists() {
            warnings.push(format!(
                "{} exists already: kept as it is, not overwritten",
                path.display()
            ));
            files.push(&path, FileAction::Kept);
        } else {
            write_new(&path, body.as_bytes(), &mut files)?;
        }
    }
    write_atomic(&plan_file.path, text.as_bytes())?;
    files.push(&plan_file.path, FileAction::Updated);
    Ok(PlanEdit {
        package: plan_file.package.clone(),
        change: name.to_owned(),
        tag: None,
        plan: plan_file.path.display().to_string(),
        line,
        line_number,
        planner: planner.clone(),
        files,
        warnings,
    })
}

/// Tag the last change of the plan of the package in `dir`.
pub fn tag(
    dir: &Path,
    options: &TagOptions,
    planner: &Planner,
    now: Timestamp,
) -> Result<PlanEdit, Error> {
    let plan_file = PlanFile::open(dir)?;
    let raw = options.name.trim();
    let name = raw.strip_prefix('@').unwrap_or(raw);
    validate_tag_name(name)
        .map_err(|why| Error::Usage(format!("invalid tag name `@{name}`: {why}")))?;
    if let Some(existing) = plan_file
        .plan
        .changes
        .iter()
        .flat_map(|c| &c.tags)
        .find(|t| t.name == name)
    {
        return Err(Error::Usage(format!(
            "tag `@{name}` is already planned at {}: tag names are unique in a plan",
            plan_file.at(existing.line)
        )));
    }
    let Some(last) = plan_file.plan.changes.last() else {
        return Err(Error::Usage(format!(
            "{} has no changes yet: a tag marks the change above it; add a change first (jobsctl add)",
            plan_file.path.display()
        )));
    };
    if let Some(wanted) = options.change.as_deref().map(str::trim) {
        match plan_file.plan.change(wanted) {
            None => {
                return Err(Error::Usage(format!(
                    "--change {wanted}: no such change in {}",
                    plan_file.path.display()
                )));
            }
            Some(change) if change.name != last.name => {
                return Err(Error::Usage(format!(
                    "--change {wanted}: `{wanted}` ({}) is not the last change. A tag marks the change above it, so a new tag can only go after the last change, `{}` ({}); inserting it higher up would change what an existing deploy of this plan means. Tag the last change (leave out --change)",
                    plan_file.at(change.line),
                    last.name,
                    plan_file.at(last.line)
                )));
            }
            Some(_) => {}
        }
    }
    let note = check_note(options.note.as_deref())?;
    let new_tag = Tag {
        name: name.to_owned(),
        planned: planned(planner, now),
        note,
        line: 0,
    };
    let line = write_tag_line(&new_tag);
    let last_name = last.name.clone();
    let (text, line_number) = plan_file.grown(&line, |plan| {
        plan.changes.last().is_some_and(|c| {
            c.name == last_name
                && c.tags
                    .last()
                    .is_some_and(|t| t.name == new_tag.name && t.planned == new_tag.planned)
        })
    })?;
    write_atomic(&plan_file.path, text.as_bytes())?;
    let mut files = Files::default();
    files.push(&plan_file.path, FileAction::Updated);
    Ok(PlanEdit {
        package: plan_file.package.clone(),
        change: last_name,
        tag: Some(name.to_owned()),
        plan: plan_file.path.display().to_string(),
        line,
        line_number,
        planner: planner.clone(),
        files,
        warnings: Vec::new(),
    })
}

fn planned(planner: &Planner, now: Timestamp) -> Planned {
    Planned {
        timestamp: now,
        planner: Some(planner.name.clone()),
        email: Some(planner.email.clone()),
    }
}

fn check_note(note: Option<&str>) -> Result<Option<String>, Error> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.contains(['\n', '\r']) {
        return Err(Error::Usage(
            "--note: a note is one line of text (the plan is one entry per line)".into(),
        ));
    }
    Ok(Some(note.to_owned()))
}

/// The `--requires` of `add`, parsed and checked (see the module docs).
fn dependencies(
    plan_file: &PlanFile,
    requires: &[String],
    warnings: &mut Vec<String>,
) -> Result<Vec<Dependency>, Error> {
    let own = plan_file.package.as_str();
    let mut out: Vec<Dependency> = Vec::new();
    for raw in requires {
        let token = raw.trim();
        let mut dependency = plan::parse_dependency(token)
            .map_err(|why| Error::Usage(format!("--requires {token}: {why}")))?;
        if dependency.project.as_deref() == Some(own) {
            dependency.project = None; // pgpm writes local dependencies unqualified
        }
        if out.contains(&dependency) {
            return Err(Error::Usage(format!(
                "--requires {token}: `{dependency}` is listed twice"
            )));
        }
        match &dependency.project {
            None => check_local(plan_file, &dependency, token)?,
            Some(project) => check_other(plan_file, project, &dependency, token, warnings)?,
        }
        out.push(dependency);
    }
    Ok(out)
}

fn check_local(plan_file: &PlanFile, dependency: &Dependency, token: &str) -> Result<(), Error> {
    let plan = &plan_file.plan;
    let missing = match &dependency.target {
        Target::Change(name) => plan.change(name).is_none(),
        Target::Tag(name) => plan.change_for_tag(name).is_none(),
    };
    if !missing {
        return Ok(());
    }
    let what = match &dependency.target {
        Target::Change(name) => format!("no change `{name}`"),
        Target::Tag(name) => format!("no tag `@{name}`"),
    };
    Err(Error::Usage(format!(
        "--requires {token}: {} has {what}: a change can only depend on changes planned before it (add that one first){}",
        plan_file.path.display(),
        suggestion(plan, dependency)
    )))
}

/// A `package:change` or `package:@tag` dependency.
fn check_other(
    plan_file: &PlanFile,
    project: &str,
    dependency: &Dependency,
    token: &str,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    control_should_require(plan_file, project, warnings);
    let Some(root) = find_workspace_root(&plan_file.dir) else {
        warnings.push(format!(
            "`{dependency}` not checked: {} is not inside a workspace (no pgpm.json above it); package `{project}` must be in the workspace you deploy from",
            plan_file.dir.display()
        ));
        return Ok(());
    };
    let Some(other_dir) = find_package(&root, project) else {
        warnings.push(format!(
            "`{dependency}` not checked: workspace {} has no package `{project}` yet; it must be there (under packages/ or extensions/) when you deploy",
            root.display()
        ));
        return Ok(());
    };
    let other_plan_path = other_dir.join("pgpm.plan");
    let other_plan = read_text(&other_plan_path).and_then(|text| {
        plan::parse(&text).map_err(|diagnostics| {
            Error::Usage(format!(
                "--requires {token}: cannot check it: {}:{}",
                other_plan_path.display(),
                diagnostics
                    .first()
                    .map(|d| format!("{}: {}", d.line, d.message))
                    .unwrap_or_default()
            ))
        })
    })?;
    let found = match &dependency.target {
        Target::Change(name) => other_plan.change(name).is_some(),
        Target::Tag(name) => other_plan.change_for_tag(name).is_some(),
    };
    if found {
        return Ok(());
    }
    let what = match &dependency.target {
        Target::Change(name) => format!("no change `{name}`"),
        Target::Tag(name) => format!("no tag `@{name}`"),
    };
    Err(Error::Usage(format!(
        "--requires {token}: package `{project}` ({}) has {what}{}",
        other_plan_path.display(),
        suggestion(&other_plan, dependency)
    )))
}

/// pgpm deploys the packages a control file `requires` before the package
/// itself; a plan dependency on a package the control file does not list
/// works with jobsctl but not necessarily with pgpm.
fn control_should_require(plan_file: &PlanFile, project: &str, warnings: &mut Vec<String>) {
    let control_path = plan_file.dir.join(format!("{}.control", plan_file.package));
    let Ok(text) = std::fs::read_to_string(&control_path) else {
        return;
    };
    if let Ok(control) = parse_control(&text)
        && !control.requires.iter().any(|r| r == project)
    {
        warnings.push(format!(
            "{}: `requires` does not list `{project}`: add it, so that pgpm too deploys `{project}` before `{}`",
            control_path.display(),
            plan_file.package
        ));
    }
}

/// ` (did you mean …?)` for a near miss: the same name as a tag instead of
/// a change or the other way round, or the available tags.
fn suggestion(plan: &Plan, dependency: &Dependency) -> String {
    let prefix = dependency
        .project
        .as_deref()
        .map(|p| format!("{p}:"))
        .unwrap_or_default();
    match &dependency.target {
        Target::Change(name) if plan.change_for_tag(name).is_some() => {
            format!(" (did you mean the tag `{prefix}@{name}`?)")
        }
        Target::Tag(name) if plan.change(name).is_some() => {
            format!(" (did you mean the change `{prefix}{name}`?)")
        }
        Target::Tag(_) => {
            let tags: Vec<String> = plan
                .changes
                .iter()
                .flat_map(|c| &c.tags)
                .map(|t| format!("`{prefix}@{}`", t.name))
                .collect();
            if tags.is_empty() {
                " (it has no tags)".to_owned()
            } else {
                format!(" (its tags: {})", tags.join(", "))
            }
        }
        Target::Change(_) => String::new(),
    }
}

fn deploy_template(package: &str, change: &Change) -> String {
    let mut text = format!("-- Deploy {package}:{} to pg\n", change.name);
    for dependency in &change.dependencies {
        text.push_str(&format!("-- requires: {dependency}\n"));
    }
    text.push_str(&format!(
        "\nBEGIN;\n\n-- Write the SQL that creates `{}` here (CREATE TABLE, CREATE FUNCTION, ...).\n-- It may use what the changes listed in `-- requires:` created.\n\nCOMMIT;\n",
        change.name
    ));
    text
}

fn revert_template(package: &str, change: &str) -> String {
    format!(
        "-- Revert {package}:{change} from pg\n\nBEGIN;\n\n-- Write the SQL that removes what deploy/{change}.sql created (DROP ...).\n\nCOMMIT;\n"
    )
}

fn verify_template(package: &str, change: &str) -> String {
    format!(
        "-- Verify {package}:{change} on pg\n\nBEGIN;\n\n-- Write queries that fail when `{change}` is not deployed, e.g.\n-- SELECT 1/count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'app' AND tablename = 'users';\n\nROLLBACK;\n"
    )
}
