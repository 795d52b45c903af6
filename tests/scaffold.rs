//! The package generator: `init`, `add`, `tag`, `export` and `bundle`, and
//! what they write being readable by pgpm's rules and deployable by
//! jobsctl, psql and `CREATE EXTENSION`.

mod common;

use assert_cmd::Command;
use common::pg::TestDb;
use common::{TempWorkspace, jobsctl, jobsctl_on, json_stdout, repo_root};
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

const PLANNER: &str = "Tess Tester";
const EMAIL: &str = "tess@example.com";

/// `jobsctl` with a fixed planner, whatever the machine's Git says.
fn generator() -> Command {
    let mut cmd = jobsctl();
    cmd.env("JOBSCTL_PLANNER_NAME", PLANNER)
        .env("JOBSCTL_PLANNER_EMAIL", EMAIL);
    cmd
}

/// Run and insist on success, showing stderr when it fails.
fn succeed(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn write(path: impl AsRef<Path>, text: &str) {
    let path = path.as_ref();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A new package `name` (plpgsql) in a temporary folder.
fn new_package(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    succeed(generator().current_dir(dir.path()).args(["init", name]));
    let package = dir.path().join(name);
    (dir, package)
}

fn add(package: &Path, args: &[&str]) -> Output {
    succeed(generator().arg("add").args(args).arg("-C").arg(package))
}

/// The plan's change and tag lines (no pragmas, blanks or comments).
fn entries(plan: &str) -> Vec<String> {
    plan.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('%'))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------
// pgpm's plan-line rules, from /work/shared/spec/pgpm-compat.md, checked
// independently of jobsctl's parser.
// ---------------------------------------------------------------------------

/// `name [deps] 2025-08-26T23:57:44Z planner <email> # note` or
/// `@tag 2025-08-26T23:57:44Z planner <email> # note`.
fn pgpm_shape(line: &str) -> Result<(), String> {
    let (name, mut rest) = line
        .split_once(char::is_whitespace)
        .ok_or("no timestamp after the name")?;
    if name.is_empty() || name.contains('[') {
        return Err(format!("name `{name}` must be one token without `[`"));
    }
    if let Some(tag) = name.strip_prefix('@') {
        if tag.is_empty() {
            return Err("empty tag name".into());
        }
    } else if rest.starts_with('[') {
        let close = rest.find(']').ok_or("unclosed dependency list")?;
        let deps = &rest[1..close];
        for dep in deps.split_whitespace() {
            let target = dep.rsplit(':').next().unwrap();
            if dep.matches(':').count() > 1 || target.is_empty() || dep.starts_with('!') {
                return Err(format!(
                    "dependency `{dep}` is not change, project:change, @tag or project:@tag"
                ));
            }
        }
        rest = rest[close + 1..]
            .strip_prefix(char::is_whitespace)
            .ok_or("the dependency list must be followed by whitespace")?;
    }
    let (timestamp, rest) = rest
        .split_once(' ')
        .ok_or("no planner after the timestamp")?;
    let shape: Vec<bool> = timestamp.bytes().map(|b| b.is_ascii_digit()).collect();
    let digits_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if timestamp.len() != 20
        || !digits_at.iter().all(|&i| shape[i])
        || &timestamp[4..5] != "-"
        || &timestamp[7..8] != "-"
        || &timestamp[10..11] != "T"
        || &timestamp[13..14] != ":"
        || &timestamp[16..17] != ":"
        || !timestamp.ends_with('Z')
    {
        return Err(format!("`{timestamp}` is not YYYY-MM-DDTHH:MM:SSZ"));
    }
    let (planner, note) = match rest.split_once(" # ") {
        Some((planner, note)) => (planner, Some(note)),
        None => (rest, None),
    };
    let open = planner.find('<').ok_or("no <email>")?;
    if planner[..open].trim().is_empty() || !planner.ends_with('>') {
        return Err(format!("`{planner}` is not `planner name <email>`"));
    }
    if note.is_some_and(|n| n.trim().is_empty()) {
        return Err("empty note".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------

#[test]
fn init_creates_a_package_with_plan_control_folders_readme_and_gitattributes() {
    let (_dir, package) = new_package("demo");
    assert_eq!(
        read(package.join("pgpm.plan")),
        "%syntax-version=1.0.0\n%project=demo\n%uri=demo\n\n"
    );
    let control = jobsctl::package::parse_control(&read(package.join("demo.control"))).unwrap();
    assert_eq!(control.default_version.as_deref(), Some("0.0.1"));
    assert_eq!(control.requires, ["plpgsql"]);
    assert_eq!(control.other["relocatable"], "false");
    assert_eq!(control.other["superuser"], "false");
    assert!(control.comment.is_some());
    for folder in ["deploy", "revert", "verify"] {
        assert!(package.join(folder).is_dir(), "{folder}/");
    }
    assert!(read(package.join("README.md")).contains("jobsctl add"));
    let attributes = read(package.join(".gitattributes"));
    assert!(attributes.lines().any(|l| l == "*.sql text eol=lf"));
    assert!(attributes.lines().any(|l| l == "pgpm.plan text eol=lf"));
}

#[test]
fn init_requires_names_the_given_extensions_and_packages() {
    let dir = tempfile::tempdir().unwrap();
    succeed(generator().current_dir(dir.path()).args([
        "init",
        "app",
        "--requires",
        "plpgsql,pgcrypto",
        "--requires",
        "pgpm-jobs",
        "--comment",
        "the app's tables",
    ]));
    let control =
        jobsctl::package::parse_control(&read(dir.path().join("app/app.control"))).unwrap();
    assert_eq!(control.requires, ["plpgsql", "pgcrypto", "pgpm-jobs"]);
    assert_eq!(control.comment.as_deref(), Some("the app's tables"));
}

#[test]
fn init_workspace_creates_pgpm_json_and_packages_folder() {
    let dir = tempfile::tempdir().unwrap();
    succeed(
        generator()
            .current_dir(dir.path())
            .args(["init", "shop", "--workspace"]),
    );
    let root = dir.path().join("shop");
    let manifest: serde_json::Value = serde_json::from_str(&read(root.join("pgpm.json"))).unwrap();
    assert_eq!(manifest, serde_json::json!({ "packages": ["packages/*"] }));
    assert!(root.join("packages").is_dir());
    assert!(read(root.join(".gitattributes")).contains("*.sql text eol=lf"));
    assert!(root.join("README.md").is_file());
}

#[test]
fn init_inside_a_workspace_creates_the_package_under_packages() {
    let dir = tempfile::tempdir().unwrap();
    succeed(
        generator()
            .current_dir(dir.path())
            .args(["init", "shop", "--workspace"]),
    );
    let root = dir.path().join("shop");
    std::fs::create_dir_all(root.join("docs/deep")).unwrap();
    succeed(
        generator()
            .current_dir(root.join("docs/deep"))
            .args(["init", "orders"]),
    );
    assert!(root.join("packages/orders/orders.control").is_file());
    assert!(root.join("packages/orders/pgpm.plan").is_file());
    assert!(!root.join("docs/deep/orders").exists());
}

#[test]
fn init_refuses_an_invalid_name() {
    let dir = tempfile::tempdir().unwrap();
    generator()
        .current_dir(dir.path())
        .args(["init", "my.pkg"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid name `my.pkg`: a project name may only contain letters, digits, `-` and `_`",
        ));
    assert!(!dir.path().join("my.pkg").exists());
}

#[test]
fn init_refuses_a_non_empty_target_but_fills_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path().join("taken/notes.txt"), "mine");
    generator()
        .current_dir(dir.path())
        .args(["init", "taken"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists and is not empty"));
    assert_eq!(read(dir.path().join("taken/notes.txt")), "mine");
    assert!(!dir.path().join("taken/pgpm.plan").exists());

    std::fs::create_dir(dir.path().join("empty")).unwrap();
    succeed(generator().current_dir(dir.path()).args(["init", "empty"]));
    assert!(dir.path().join("empty/empty.control").is_file());
}

#[test]
fn init_refuses_a_package_name_the_workspace_already_has() {
    let ws = TempWorkspace::new();
    ws.write(
        "extensions/orders/orders.control",
        "default_version = '1.0.0'\n",
    );
    generator()
        .current_dir(ws.path())
        .args(["init", "orders"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "already has a package named `orders`",
        ));
}

#[test]
fn init_json_lists_every_file_created() {
    let dir = tempfile::tempdir().unwrap();
    let output = succeed(
        generator()
            .current_dir(dir.path())
            .args(["init", "demo", "--format", "json"]),
    );
    let report = json_stdout(&output);
    assert_eq!(report["created"], "package");
    let files: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["action"], "created");
            f["path"].as_str().unwrap().to_owned()
        })
        .collect();
    for name in ["pgpm.plan", "demo.control", "README.md", ".gitattributes"] {
        assert!(
            files.iter().any(|f| f.ends_with(&format!("demo/{name}"))),
            "{name} in {files:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// add
// ---------------------------------------------------------------------------

#[test]
fn add_appends_a_plan_line_and_creates_the_three_scripts() {
    let (_dir, package) = new_package("demo");
    let before = jobsctl::scaffold::planner::now();
    add(&package, &["schema"]);
    add(
        &package,
        &[
            "tables/items",
            "--requires",
            "schema",
            "--note",
            "the items",
        ],
    );
    let after = jobsctl::scaffold::planner::now();
    let lines = entries(&read(package.join("pgpm.plan")));
    assert_eq!(lines.len(), 2);
    let fields: Vec<&str> = lines[1].split(' ').collect();
    assert_eq!(&fields[..2], ["tables/items", "[schema]"]);
    let stamp = fields[2];
    assert!(
        before.as_str() <= stamp && stamp <= after.as_str(),
        "{stamp} is now, UTC"
    );
    assert_eq!(
        lines[1].split_once(stamp).unwrap().1,
        format!(" {PLANNER} <{EMAIL}> # the items")
    );

    let deploy = read(package.join("deploy/tables/items.sql"));
    assert!(deploy.starts_with("-- Deploy demo:tables/items to pg\n-- requires: schema\n"));
    assert!(deploy.contains("\nBEGIN;\n") && deploy.trim_end().ends_with("COMMIT;"));
    assert!(deploy.contains("-- Write the SQL"));
    let revert = read(package.join("revert/tables/items.sql"));
    assert!(revert.starts_with("-- Revert demo:tables/items from pg\n"));
    assert!(revert.trim_end().ends_with("COMMIT;"));
    let verify = read(package.join("verify/tables/items.sql"));
    assert!(verify.starts_with("-- Verify demo:tables/items on pg\n"));
    assert!(verify.trim_end().ends_with("ROLLBACK;"));
}

#[test]
fn add_keeps_the_plans_comments_layout_and_line_endings() {
    let (_dir, package) = new_package("demo");
    let original = "%syntax-version=1.0.0\r\n%project=demo\r\n%uri=demo\r\n\r\n# first, the schema\r\nschema 2025-01-01T00:00:00Z Ann <ann@example.com>\r\n\r\n   # indented comment, kept\r\n";
    write(package.join("pgpm.plan"), original);
    write(package.join("deploy/schema.sql"), "CREATE SCHEMA demo;\n");
    add(&package, &["tables/items", "--requires", "schema"]);
    let grown = read(package.join("pgpm.plan"));
    let appended = grown
        .strip_prefix(original)
        .expect("the original text is kept as it is");
    assert!(appended.starts_with("tables/items [schema] "));
    assert!(appended.ends_with(&format!("<{EMAIL}>\r\n")));
    assert_eq!(appended.matches('\n').count(), 1);
}

#[test]
fn add_separates_the_first_change_from_the_pragmas_by_a_blank_line() {
    let (_dir, package) = new_package("demo");
    write(
        package.join("pgpm.plan"),
        "%syntax-version=1.0.0\n%project=demo",
    );
    add(&package, &["schema"]);
    let plan = read(package.join("pgpm.plan"));
    assert!(plan.starts_with("%syntax-version=1.0.0\n%project=demo\n\nschema "));
}

#[test]
fn add_creates_sub_folders_for_names_with_slashes() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schemas/app/tables/users/table"]);
    for folder in ["deploy", "revert", "verify"] {
        assert!(
            package
                .join(folder)
                .join("schemas/app/tables/users/table.sql")
                .is_file()
        );
    }
}

#[test]
fn add_refuses_a_change_that_is_already_planned() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schema"]);
    let plan = read(package.join("pgpm.plan"));
    generator()
        .args(["add", "schema", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "change `schema` is already planned at",
        ))
        .stderr(predicate::str::contains("pgpm.plan:5"));
    assert_eq!(read(package.join("pgpm.plan")), plan);
}

#[test]
fn add_refuses_an_invalid_change_name() {
    let (_dir, package) = new_package("demo");
    for (name, why) in [
        ("two words", "whitespace"),
        ("a:b", "`:`"),
        ("v1^2", "relative reference"),
        ("-x", "start"),
    ] {
        generator()
            .args(["add", "-C"])
            .arg(&package)
            .args(["--", name])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "invalid change name `{name}`"
            )))
            .stderr(predicate::str::contains(why));
    }
    assert!(entries(&read(package.join("pgpm.plan"))).is_empty());
    assert_eq!(
        std::fs::read_dir(package.join("deploy")).unwrap().count(),
        0
    );
}

#[test]
fn add_refuses_a_dependency_on_a_change_or_tag_not_in_the_plan() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schema"]);
    generator()
        .args(["add", "items", "--requires", "tables", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--requires tables: "))
        .stderr(predicate::str::contains(
            "has no change `tables`: a change can only depend on changes planned before it",
        ));
    generator()
        .args(["add", "items", "--requires", "@v1", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no tag `@v1`"));
    generator()
        .args(["add", "items", "--requires", "!schema", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "conflict `!schema` is not supported",
        ));
    assert!(!package.join("deploy/items.sql").exists());
    assert_eq!(entries(&read(package.join("pgpm.plan"))).len(), 1);
}

#[test]
fn add_checks_a_dependency_on_another_package_of_the_workspace() {
    let ws = TempWorkspace::new();
    ws.package("base", &["plpgsql"])
        .change("base", "schema", "CREATE SCHEMA base;")
        .plan_line("base", &format!("@v1 {}", common::PLANNED));
    succeed(
        generator()
            .current_dir(ws.path())
            .args(["init", "app", "--requires", "plpgsql,base"]),
    );
    let app = ws.path().join("packages/app");
    generator()
        .args(["add", "items", "--requires", "base:tables", "-C"])
        .arg(&app)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--requires base:tables: package `base`",
        ))
        .stderr(predicate::str::contains("has no change `tables`"));
    generator()
        .args(["add", "items", "--requires", "base:@v2", "-C"])
        .arg(&app)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no tag `@v2` (its tags: `base:@v1`)",
        ));
    let output = add(&app, &["items", "--requires", "base:@v1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(entries(&read(app.join("pgpm.plan")))[0].starts_with("items [base:@v1] "));
}

#[test]
fn add_accepts_a_dependency_on_a_package_it_cannot_find_with_a_warning() {
    let (_dir, package) = new_package("demo");
    generator()
        .args(["add", "jobs", "--requires", "pgpm-jobs:@0.1.0", "-C"])
        .arg(&package)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: `pgpm-jobs:@0.1.0` not checked",
        ))
        .stderr(predicate::str::contains("not inside a workspace"))
        .stderr(predicate::str::contains(
            "`requires` does not list `pgpm-jobs`",
        ));
    assert!(entries(&read(package.join("pgpm.plan")))[0].starts_with("jobs [pgpm-jobs:@0.1.0] "));
}

#[test]
fn add_keeps_scripts_that_exist_already() {
    let (_dir, package) = new_package("demo");
    write(package.join("deploy/schema.sql"), "CREATE SCHEMA mine;\n");
    generator()
        .args(["add", "schema", "-C"])
        .arg(&package)
        .assert()
        .success()
        .stdout(predicate::str::contains("kept"))
        .stderr(predicate::str::contains("kept as it is, not overwritten"));
    assert_eq!(
        read(package.join("deploy/schema.sql")),
        "CREATE SCHEMA mine;\n"
    );
    assert!(package.join("revert/schema.sql").is_file());
}

#[test]
fn add_refuses_to_grow_a_plan_that_is_invalid_already() {
    let (_dir, package) = new_package("demo");
    let broken = "%syntax-version=1.0.0\n%project=demo\n\nb [a] 2025-01-01T00:00:00Z Ann <ann@example.com>\n";
    write(package.join("pgpm.plan"), broken);
    generator()
        .args(["add", "c", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "pgpm.plan:4: change `b` requires `a`",
        ))
        .stderr(predicate::str::contains("nothing was written"));
    assert_eq!(read(package.join("pgpm.plan")), broken);
    assert!(!package.join("deploy/c.sql").exists());
}

#[test]
fn add_outside_a_package_folder_says_where_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    generator()
        .current_dir(dir.path())
        .args(["add", "schema"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "not a pgpm package folder (no *.control file): run inside a package folder or pass -C DIR",
        ));
}

#[test]
fn add_json_reports_the_line_its_number_and_the_files() {
    let (_dir, package) = new_package("demo");
    let output = succeed(
        generator()
            .args(["add", "schema", "--format", "json", "-C"])
            .arg(&package),
    );
    let report = json_stdout(&output);
    assert_eq!(report["package"], "demo");
    assert_eq!(report["change"], "schema");
    assert_eq!(report["line_number"], 5);
    assert!(report["line"].as_str().unwrap().starts_with("schema 20"));
    assert_eq!(report["planner"]["name"], PLANNER);
    let actions: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "created", "created", "updated"]);
}

// ---------------------------------------------------------------------------
// the planner
// ---------------------------------------------------------------------------

/// `jobsctl add` with no planner variables and Git configuration limited
/// to the package folder's repository (if any).
fn add_without_planner_variables(package: &Path, home: &Path) -> Command {
    let mut cmd = jobsctl();
    cmd.env_remove("JOBSCTL_PLANNER_NAME")
        .env_remove("JOBSCTL_PLANNER_EMAIL")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_CONFIG_GLOBAL")
        .args(["add", "schema", "-C"])
        .arg(package);
    cmd
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git is installed");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn planner_comes_from_jobsctl_planner_variables_before_git() {
    let (dir, package) = new_package("demo");
    git(&package, &["init", "-q"]);
    git(&package, &["config", "user.name", "Git Person"]);
    git(&package, &["config", "user.email", "git@example.com"]);
    let mut cmd = add_without_planner_variables(&package, dir.path());
    cmd.env("JOBSCTL_PLANNER_NAME", "Env Person")
        .env("JOBSCTL_PLANNER_EMAIL", "env@example.com");
    succeed(&mut cmd);
    assert!(read(package.join("pgpm.plan")).contains("Z Env Person <env@example.com>\n"));
}

#[test]
fn planner_comes_from_git_config_of_the_package_folder() {
    let (dir, package) = new_package("demo");
    git(&package, &["init", "-q"]);
    git(&package, &["config", "user.name", "Git Person"]);
    git(&package, &["config", "user.email", "git@example.com"]);
    succeed(&mut add_without_planner_variables(&package, dir.path()));
    assert!(read(package.join("pgpm.plan")).contains("Z Git Person <git@example.com>\n"));
}

#[test]
fn planner_falls_back_to_the_system_user_at_the_host_name() {
    let (dir, package) = new_package("demo");
    let mut cmd = add_without_planner_variables(&package, dir.path());
    cmd.env("USER", "sysuser");
    succeed(&mut cmd);
    let host = read("/proc/sys/kernel/hostname").trim().to_owned();
    assert!(
        read(package.join("pgpm.plan")).contains(&format!("Z sysuser <sysuser@{host}>\n")),
        "{}",
        read(package.join("pgpm.plan"))
    );
}

// ---------------------------------------------------------------------------
// tag
// ---------------------------------------------------------------------------

#[test]
fn tag_marks_the_last_change() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schema"]);
    add(&package, &["tables", "--requires", "schema"]);
    succeed(
        generator()
            .args(["tag", "v1.0.0", "--note", "first release", "-C"])
            .arg(&package),
    );
    succeed(
        generator()
            .args(["tag", "@v1.0.1", "--change", "tables", "-C"])
            .arg(&package),
    );
    let plan = jobsctl::plan::parse(&read(package.join("pgpm.plan"))).unwrap();
    let tags: Vec<(&str, Option<&str>)> = plan.changes[1]
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.note.as_deref()))
        .collect();
    assert_eq!(tags, [("v1.0.0", Some("first release")), ("v1.0.1", None)]);
    let tag = &plan.changes[1].tags[0].planned;
    assert_eq!(tag.planner.as_deref(), Some(PLANNER));
    assert_eq!(tag.email.as_deref(), Some(EMAIL));
}

#[test]
fn tag_refuses_a_duplicate_or_invalid_name() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schema"]);
    succeed(generator().args(["tag", "v1", "-C"]).arg(&package));
    generator()
        .args(["tag", "v1", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tag `@v1` is already planned at"));
    generator()
        .args(["tag", "release/one", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("may not contain `/`"));
    generator()
        .args(["tag", "v 2", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid tag name"));
}

#[test]
fn tag_of_a_change_that_is_not_the_last_explains_why_not() {
    let (_dir, package) = new_package("demo");
    add(&package, &["schema"]);
    add(&package, &["tables"]);
    let plan = read(package.join("pgpm.plan"));
    generator()
        .args(["tag", "v1", "--change", "schema", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`schema` ("))
        .stderr(predicate::str::contains(
            "is not the last change. A tag marks the change above it",
        ))
        .stderr(predicate::str::contains("`tables`"));
    generator()
        .args(["tag", "v1", "--change", "nope", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--change nope: no such change"));
    assert_eq!(read(package.join("pgpm.plan")), plan);
}

#[test]
fn tag_of_a_plan_without_changes_is_refused() {
    let (_dir, package) = new_package("demo");
    generator()
        .args(["tag", "v1", "-C"])
        .arg(&package)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no changes yet: a tag marks the change above it",
        ));
}

// ---------------------------------------------------------------------------
// pgpm's rules
// ---------------------------------------------------------------------------

#[test]
fn plans_written_by_init_add_and_tag_follow_pgpms_rules() {
    let dir = tempfile::tempdir().unwrap();
    succeed(
        generator()
            .current_dir(dir.path())
            .args(["init", "shop", "--workspace"]),
    );
    let root = dir.path().join("shop");
    succeed(generator().current_dir(&root).args(["init", "base"]));
    succeed(
        generator()
            .current_dir(&root)
            .args(["init", "orders", "--requires", "plpgsql,base"]),
    );
    let base = root.join("packages/base");
    let orders = root.join("packages/orders");
    add(&base, &["schemas/base/schema", "--note", "the # schema"]);
    succeed(generator().args(["tag", "v1", "-C"]).arg(&base));
    add(
        &orders,
        &["schemas/orders/schema", "--requires", "base:@v1"],
    );
    add(
        &orders,
        &[
            "schemas/orders/tables/orders",
            "--requires",
            "schemas/orders/schema",
            "--requires",
            "base:schemas/base/schema",
            "--note",
            "orders <and> notes",
        ],
    );
    succeed(
        generator()
            .args(["tag", "0.0.1", "--note", "first", "-C"])
            .arg(&orders),
    );
    for package in [&base, &orders] {
        let text = read(package.join("pgpm.plan"));
        let name = package.file_name().unwrap().to_str().unwrap();
        assert!(text.starts_with(&format!(
            "%syntax-version=1.0.0\n%project={name}\n%uri={name}\n\n"
        )));
        let plan = jobsctl::plan::parse(&text).unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(plan.project(), name);
        assert_eq!(jobsctl::plan::write(&plan), text, "the canonical layout");
        for line in entries(&text) {
            pgpm_shape(&line).unwrap_or_else(|why| panic!("`{line}`: {why}"));
        }
    }
    let plan = jobsctl::plan::parse(&read(orders.join("pgpm.plan"))).unwrap();
    assert_eq!(plan.changes[1].note.as_deref(), Some("orders <and> notes"));
    assert_eq!(plan.changes[1].dependencies.len(), 2);
}

#[test]
fn pgpm_shape_check_rejects_what_pgpm_rejects() {
    assert!(pgpm_shape("a 2025-08-26T23:57:44Z Ann <ann@example.com> # note").is_ok());
    assert!(pgpm_shape("a[b] 2025-08-26T23:57:44Z Ann <ann@example.com>").is_err());
    assert!(pgpm_shape("a [!b] 2025-08-26T23:57:44Z Ann <ann@example.com>").is_err());
    assert!(pgpm_shape("a 2025-08-26 23:57:44 Ann <ann@example.com>").is_err());
    assert!(pgpm_shape("@t 2025-08-26T23:57:44Z Ann").is_err());
}

// ---------------------------------------------------------------------------
// export
// ---------------------------------------------------------------------------

fn export_to(dir: &Path) {
    succeed(jobsctl().arg("export").arg(dir));
}

/// Every file below `dir`, relative, sorted.
fn files_below(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn export_writes_the_embedded_workspace_byte_for_byte_in_pgpms_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ws");
    export_to(&out);
    let manifest: serde_json::Value = serde_json::from_str(&read(out.join("pgpm.json"))).unwrap();
    assert_eq!(manifest["packages"], serde_json::json!(["packages/*"]));
    let root = repo_root();
    let mut expected: Vec<(PathBuf, PathBuf)> = Vec::new();
    for file in ["pgpm.plan", "pgpm-jobs.control"] {
        expected.push((root.join(file), out.join("packages/pgpm-jobs").join(file)));
    }
    for folder in ["deploy", "revert", "verify"] {
        for file in files_below(&root.join(folder)) {
            expected.push((
                root.join(folder).join(&file),
                out.join("packages/pgpm-jobs").join(folder).join(&file),
            ));
        }
    }
    for file in files_below(&root.join("extensions")) {
        expected.push((
            root.join("extensions").join(&file),
            out.join("extensions").join(&file),
        ));
    }
    for (original, exported) in &expected {
        assert_eq!(
            std::fs::read(original).unwrap(),
            std::fs::read(exported).unwrap_or_default(),
            "{} is a copy of {}",
            exported.display(),
            original.display()
        );
    }
    let written = files_below(&out).len();
    assert_eq!(
        written,
        expected.len() + 3,
        "plus pgpm.json, README.md, .gitattributes"
    );
    let plan = succeed(jobsctl().args(["plan", "-w"]).arg(&out));
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(plan.contains("3 packages"), "{plan}");
}

#[test]
fn export_refuses_a_non_empty_folder_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path().join("mine.txt"), "keep me");
    jobsctl()
        .arg("export")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not empty"))
        .stderr(predicate::str::contains("--force"));
    assert!(!dir.path().join("pgpm.json").exists());
    succeed(jobsctl().arg("export").arg(dir.path()).arg("--force"));
    assert_eq!(read(dir.path().join("mine.txt")), "keep me");
    assert!(dir.path().join("packages/pgpm-jobs/pgpm.plan").is_file());
}

#[test]
fn export_that_cannot_write_fails_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path().join("file"), "not a folder");
    jobsctl()
        .arg("export")
        .arg(dir.path().join("file/ws"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot write"))
        .stderr(predicate::str::contains("file/ws"));
}

// ---------------------------------------------------------------------------
// catalogs: pg_dump --schema-only, normalised
// ---------------------------------------------------------------------------

/// The PostgreSQL client programs of the test cluster's installation.
fn pg_bin(program: &str) -> PathBuf {
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join(program).exists() {
            return dir.join(program);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join(program).exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL client programs")
        .1
        .join(program)
}

/// `pg_dump --schema-only` without comments, SET lines, pg_dump's random
/// `\restrict` keys and the database's name.
fn catalog(db: &TestDb, exclude_schemas: &[&str]) -> String {
    let mut cmd = std::process::Command::new(pg_bin("pg_dump"));
    cmd.args(["--schema-only", "--no-password"]).envs(db.env());
    for schema in exclude_schemas {
        cmd.arg(format!("--exclude-schema={schema}"));
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !(l.is_empty()
                || l.starts_with("--")
                || l.starts_with("SET ")
                || l.starts_with("SELECT pg_catalog.set_config")
                || l.starts_with("\\restrict")
                || l.starts_with("\\unrestrict"))
        })
        .map(|l| l.replace(&db.name, "<database>"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn deploy(db: &TestDb, workspace: Option<&Path>) {
    let mut cmd = jobsctl_on(db);
    cmd.arg("deploy");
    if let Some(workspace) = workspace {
        cmd.arg("-w").arg(workspace);
    }
    succeed(&mut cmd);
}

#[test]
fn export_deploys_to_the_same_catalog_as_the_embedded_workspace() {
    let dir = tempfile::tempdir().unwrap();
    export_to(dir.path());
    let embedded = TestDb::new("export_embedded");
    let exported = TestDb::new("export_exported");
    deploy(&embedded, None);
    deploy(&exported, Some(dir.path()));
    let (a, b) = (catalog(&embedded, &[]), catalog(&exported, &[]));
    assert!(a.contains("CREATE TABLE app_jobs.jobs"), "{a}");
    assert_eq!(a, b);
    assert_eq!(
        embedded.value(
            "SELECT string_agg(script_hash, ',' ORDER BY change_name) FROM pgpm_migrate.changes"
        ),
        exported.value(
            "SELECT string_agg(script_hash, ',' ORDER BY change_name) FROM pgpm_migrate.changes"
        ),
    );
}

#[test]
fn a_database_deployed_from_the_embedded_workspace_shows_no_drift_from_the_export() {
    let dir = tempfile::tempdir().unwrap();
    export_to(dir.path());
    let db = TestDb::new("export_no_drift");
    deploy(&db, None);
    let output = succeed(
        jobsctl_on(&db)
            .args(["deploy", "--format", "json", "-w"])
            .arg(dir.path()),
    );
    let report = json_stdout(&output);
    assert_eq!(
        report["changes"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    succeed(
        jobsctl_on(&db)
            .args(["status", "--exit-code", "-w"])
            .arg(dir.path()),
    );
}

// ---------------------------------------------------------------------------
// bundle
// ---------------------------------------------------------------------------

/// The embedded packages in dependency order, with the folder holding
/// their plan and control file in the repository.
const EMBEDDED: [(&str, &str); 3] = [
    ("pgpm-verify", "extensions/pgpm-verify"),
    ("pgpm-default-roles", "extensions/pgpm-default-roles"),
    ("pgpm-jobs", ""),
];

/// `default_version` of an embedded package, as the repository has it.
fn version_of(name: &str) -> String {
    let (_, dir) = EMBEDDED.iter().find(|(n, _)| *n == name).unwrap();
    let control = read(repo_root().join(dir).join(format!("{name}.control")));
    jobsctl::package::parse_control(&control)
        .unwrap()
        .default_version
        .unwrap()
}

/// `<name>--<version>.sql` of an embedded package.
fn script_of(name: &str) -> String {
    format!("{name}--{}.sql", version_of(name))
}

#[test]
fn bundle_writes_one_extension_per_package_and_a_pgxs_makefile() {
    let dir = tempfile::tempdir().unwrap();
    succeed(jobsctl().arg("bundle").arg("--out").arg(dir.path()));
    let makefile = read(dir.path().join("Makefile"));
    let data = format!(
        "DATA = {}",
        EMBEDDED.map(|(name, _)| script_of(name)).join(" ")
    );
    for line in [
        "EXTENSION = pgpm-verify pgpm-default-roles pgpm-jobs",
        data.as_str(),
        "PG_CONFIG ?= pg_config",
        "PGXS := $(shell $(PG_CONFIG) --pgxs)",
        "include $(PGXS)",
    ] {
        assert!(makefile.lines().any(|l| l == line), "{line} in\n{makefile}");
    }
    let control =
        jobsctl::package::parse_control(&read(dir.path().join("pgpm-jobs.control"))).unwrap();
    assert_eq!(control.default_version, Some(version_of("pgpm-jobs")));
    assert_eq!(
        control.requires,
        ["plpgsql", "pgcrypto", "pgpm-default-roles", "pgpm-verify"]
    );
    for (name, dir_in_repo) in EMBEDDED {
        let sql = read(dir.path().join(script_of(name)));
        let (guard, body) = sql.split_once('\n').unwrap();
        assert_eq!(
            guard,
            format!("\\echo Use 'CREATE EXTENSION \"{name}\" CASCADE' to load this file. \\quit")
        );
        let script = jobsctl::script::analyse(body).unwrap();
        assert_eq!(
            script.transaction_control().count(),
            0,
            "{name}: no BEGIN/COMMIT left"
        );
        let plan =
            jobsctl::plan::parse(&read(repo_root().join(dir_in_repo).join("pgpm.plan"))).unwrap();
        for change in &plan.changes {
            assert!(
                sql.contains(&format!("\n-- change {name}:{} (", change.name)),
                "{name}:{} is bundled",
                change.name
            );
        }
    }
    let jobs = read(dir.path().join(script_of("pgpm-jobs")));
    let schema = jobs.find("CREATE SCHEMA app_jobs").unwrap();
    let table = jobs.find("CREATE TABLE app_jobs.jobs").unwrap();
    assert!(schema < table, "plan order");
}

#[test]
fn bundle_single_file_applied_with_psql_gives_the_catalog_jobsctl_deploys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.sql");
    succeed(jobsctl().arg("bundle").arg("--single-file").arg(&file));
    let sql = read(&file);
    let pgcrypto = sql
        .find("CREATE EXTENSION IF NOT EXISTS \"pgcrypto\" CASCADE;")
        .unwrap();
    let verify = sql.find("-- ==== package pgpm-verify").unwrap();
    let roles = sql.find("-- ==== package pgpm-default-roles").unwrap();
    let jobs = sql.find("-- ==== package pgpm-jobs").unwrap();
    assert!(
        pgcrypto < verify && verify < roles && roles < jobs,
        "dependency order"
    );

    let deployed = TestDb::new("bundle_deployed");
    deploy(&deployed, None);
    let bundled = TestDb::new("bundle_psql");
    let output = std::process::Command::new(pg_bin("psql"))
        .args([
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
        ])
        .arg(&file)
        .envs(bundled.env())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        catalog(&deployed, &["pgpm_migrate"]),
        catalog(&bundled, &["pgpm_migrate"])
    );
}

/// Removes the files a test installed into the server's extension folder.
struct Installed(Vec<PathBuf>);

impl Drop for Installed {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[test]
fn bundle_installs_with_make_install_and_create_extension() {
    if std::env::var_os("JOBSCTL_TEST_PGHOST").is_some() {
        eprintln!(
            "skipped: the test server is external; its extension folder is not ours to write"
        );
        return;
    }
    let pg_config = pg_bin("pg_config");
    let sharedir = std::process::Command::new(&pg_config)
        .arg("--sharedir")
        .output()
        .unwrap();
    let extension_dir =
        PathBuf::from(String::from_utf8_lossy(&sharedir.stdout).trim()).join("extension");
    let names = ["pgpm-verify", "pgpm-default-roles", "pgpm-jobs"];
    let targets: Vec<PathBuf> = names
        .iter()
        .flat_map(|n| [format!("{n}.control"), script_of(n)])
        .map(|f| extension_dir.join(f))
        .collect();
    if let Some(existing) = targets.iter().find(|t| t.exists()) {
        eprintln!(
            "skipped: {} is installed already; not replacing it",
            existing.display()
        );
        return;
    }
    let probe = extension_dir.join(".jobsctl-write-probe");
    if std::fs::write(&probe, "").is_err() {
        eprintln!(
            "skipped: {} is not writable (run the tests as root to install extensions)",
            extension_dir.display()
        );
        return;
    }
    let _ = std::fs::remove_file(&probe);
    let _cleanup = Installed(targets.clone());

    let dir = tempfile::tempdir().unwrap();
    succeed(jobsctl().arg("bundle").arg("--out").arg(dir.path()));
    let has_pgxs = std::process::Command::new(&pg_config)
        .arg("--pgxs")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|p| p.is_file());
    let make = std::process::Command::new("make")
        .arg("-C")
        .arg(dir.path())
        .arg(format!("PG_CONFIG={}", pg_config.display()))
        .arg("install")
        .output();
    match make {
        Ok(output) if has_pgxs => assert!(
            output.status.success(),
            "make install: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        _ => {
            eprintln!("make or PGXS missing: copying the files as `make install` would");
            for target in &targets {
                std::fs::copy(dir.path().join(target.file_name().unwrap()), target).unwrap();
            }
        }
    }
    assert!(targets.iter().all(|t| t.is_file()));

    let db = TestDb::new("bundle_extension");
    let mut client = db.client();
    client
        .batch_execute("CREATE EXTENSION \"pgpm-jobs\" CASCADE")
        .unwrap_or_else(|e| panic!("{}", common::describe_sql_error(&e)));
    let installed =
        db.column("SELECT extname || ' ' || extversion FROM pg_extension ORDER BY extname");
    assert!(
        installed
            .iter()
            .flatten()
            .any(|e| e.starts_with("pgcrypto ")),
        "{installed:?}"
    );
    for (name, _) in EMBEDDED {
        let expected = format!("{name} {}", version_of(name));
        assert!(
            installed.contains(&Some(expected.clone())),
            "{expected} in {installed:?}"
        );
    }
    client
        .batch_execute(
            "SELECT app_jobs.add_job('00000000-0000-0000-0000-000000000001'::uuid, 'bundled', '{}'::json)",
        )
        .unwrap();
    assert_eq!(
        db.value("SELECT count(*) FROM app_jobs.jobs").as_deref(),
        Some("1")
    );
    // The schema belongs to the extension; the cluster roles do not (roles
    // are shared objects, never members of an extension).
    assert_eq!(
        db.value(
            "SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid \
             WHERE d.classid = 'pg_namespace'::regclass AND d.objid = 'app_jobs'::regnamespace AND d.deptype = 'e'"
        )
        .as_deref(),
        Some("pgpm-jobs")
    );
    client
        .batch_execute("DROP EXTENSION \"pgpm-jobs\"")
        .unwrap();
    assert_eq!(
        db.value("SELECT count(*) FROM pg_namespace WHERE nspname = 'app_jobs'")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.value("SELECT count(*) FROM pg_roles WHERE rolname = 'administrator'")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn bundle_refuses_statements_that_cannot_run_in_a_transaction() {
    let ws = TempWorkspace::new();
    ws.package("app", &["plpgsql"])
        .change("app", "table", "CREATE TABLE t (a int);")
        .change("app", "index [table]", "SELECT 1;");
    ws.write(
        "packages/app/deploy/index.sql",
        "-- Deploy app:index\n\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n",
    );
    let dir = tempfile::tempdir().unwrap();
    jobsctl()
        .args(["bundle", "-w"])
        .arg(ws.path())
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "packages/app/deploy/index.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
        ));
    assert!(!dir.path().join("Makefile").exists());
}

#[test]
fn bundle_replaces_its_own_files_but_not_others_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    succeed(jobsctl().arg("bundle").arg("--out").arg(dir.path()));
    succeed(jobsctl().arg("bundle").arg("--out").arg(dir.path()));
    write(dir.path().join("Makefile"), "all:\n\techo mine\n");
    jobsctl()
        .arg("bundle")
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Makefile exists and was not written by jobsctl bundle",
        ));
    assert_eq!(read(dir.path().join("Makefile")), "all:\n\techo mine\n");
    succeed(
        jobsctl()
            .arg("bundle")
            .arg("--force")
            .arg("--out")
            .arg(dir.path()),
    );
    assert!(read(dir.path().join("Makefile")).contains("EXTENSION = "));
}

#[test]
fn bundle_of_a_package_without_default_version_is_refused() {
    let ws = TempWorkspace::new();
    ws.write("packages/app/app.control", "requires = 'plpgsql'\n")
        .write(
            "packages/app/pgpm.plan",
            "%syntax-version=1.0.0\n%project=app\n%uri=app\n\n",
        )
        .change("app", "table", "CREATE TABLE t (a int);");
    jobsctl()
        .args(["bundle", "-w"])
        .arg(ws.path())
        .arg("--out")
        .arg(ws.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "package `app` has no `default_version`",
        ));
    let single = ws.path().join("app.sql");
    succeed(
        jobsctl()
            .args(["bundle", "-w"])
            .arg(ws.path())
            .arg("--single-file")
            .arg(&single),
    );
    assert!(read(&single).contains("CREATE TABLE t (a int);"));
}

// ---------------------------------------------------------------------------
// a user's package on top of pgpm-jobs
// ---------------------------------------------------------------------------

#[test]
fn a_users_package_on_pgpm_jobs_enqueues_a_job_for_each_inserted_row() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    export_to(&ws);
    succeed(
        generator()
            .current_dir(&ws)
            .args(["init", "shop", "--requires", "plpgsql,pgpm-jobs"]),
    );
    let shop = ws.join("packages/shop");
    let output = add(&shop, &["schema", "--requires", "pgpm-jobs:@0.1.0"]);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("warning"),
        "pgpm-jobs is found and listed in requires: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    add(&shop, &["tables/items", "--requires", "schema"]);
    add(
        &shop,
        &[
            "triggers/items_enqueue",
            "--requires",
            "tables/items",
            "--note",
            "a job per new item",
        ],
    );
    succeed(generator().args(["tag", "0.0.1", "-C"]).arg(&shop));

    // Until the scripts say something, the changes are no-ops: a warning,
    // and an error with --strict.
    jobsctl()
        .args(["plan", "-w"])
        .arg(&ws)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "has no SQL statement: it deploys as a no-op",
        ));
    jobsctl()
        .args(["plan", "--strict", "-w"])
        .arg(&ws)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no SQL statement"));

    let fill = |change: &str, deploy: &str, revert: &str, verify: &str| {
        for (folder, sql) in [("deploy", deploy), ("revert", revert), ("verify", verify)] {
            let path = shop.join(folder).join(format!("{change}.sql"));
            let template = read(&path);
            let keep: String = template
                .lines()
                .take_while(|l| l.starts_with("-- "))
                .map(|l| format!("{l}\n"))
                .collect();
            write(
                &path,
                &format!(
                    "{keep}\nBEGIN;\n{sql}\n{}\n",
                    if folder == "verify" {
                        "ROLLBACK;"
                    } else {
                        "COMMIT;"
                    }
                ),
            );
        }
    };
    fill(
        "schema",
        "CREATE SCHEMA shop;",
        "DROP SCHEMA shop;",
        "SELECT 1/count(*) FROM pg_namespace WHERE nspname = 'shop';",
    );
    fill(
        "tables/items",
        "CREATE TABLE shop.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);",
        "DROP TABLE shop.items;",
        "SELECT id, name FROM shop.items WHERE false;",
    );
    fill(
        "triggers/items_enqueue",
        "CREATE TRIGGER items_enqueue AFTER INSERT ON shop.items FOR EACH ROW\n  EXECUTE FUNCTION app_jobs.tg_add_job_with_row_id('9a3c6b8e-0000-4000-8000-000000000001', 'item_created');",
        "DROP TRIGGER items_enqueue ON shop.items;",
        "SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'items_enqueue';",
    );

    let db = TestDb::new("users_package");
    deploy(&db, Some(&ws));
    succeed(jobsctl_on(&db).args(["verify", "-w"]).arg(&ws));
    db.client()
        .batch_execute("INSERT INTO shop.items (name) VALUES ('teapot'), ('kettle')")
        .unwrap();
    assert_eq!(
        db.column("SELECT task_identifier || ' ' || payload::text FROM app_jobs.jobs ORDER BY id"),
        [
            Some("item_created {\"id\": 1}".to_owned()),
            Some("item_created {\"id\": 2}".to_owned())
        ]
    );
    assert_eq!(
        db.value(
            "SELECT string_agg(requires, ',') FROM pgpm_migrate.dependencies d \
             JOIN pgpm_migrate.changes c USING (change_id) WHERE c.package = 'shop' AND c.change_name = 'schema'"
        )
        .as_deref(),
        Some("pgpm-jobs:schemas/app_jobs/triggers/tg_add_job_with_fields")
    );
}
