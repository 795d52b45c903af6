//! Hand-made workspaces, one per rule of pgpm that jobsctl follows: each
//! deploys, verifies and reverts identically under pgpm and jobsctl.

use crate::common::pg::TestDb;
use crate::compare::registry;
use crate::driver::pgpm;
use crate::{Target, assert_same_under_both, differential, jobsctl};
use std::path::Path;

pub const PLANNED: &str = "2025-08-26T23:57:44Z tester <tester@example.com>";

/// A workspace in a temporary folder, written file by file.
pub struct Ws {
    dir: tempfile::TempDir,
}

impl Ws {
    /// An empty folder (no pgpm.json).
    pub fn bare() -> Ws {
        Ws {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// A workspace whose pgpm.json lists `packages/*`.
    pub fn new() -> Ws {
        let ws = Ws::bare();
        ws.file("pgpm.json", "{\n  \"packages\": [\"packages/*\"]\n}\n");
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Leave the folder on disk (for a failure to be looked at).
    pub fn keep(self) -> std::path::PathBuf {
        self.dir.keep()
    }

    pub fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn read(&self, relative: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(relative)).unwrap()
    }

    /// `<dir>/<name>.control` requiring `requires`, and a plan for
    /// `%project=<name>` with no change yet.
    pub fn module(&self, dir: &str, name: &str, requires: &[&str]) -> &Self {
        self.control(dir, name, requires);
        self.file(
            &format!("{dir}/pgpm.plan"),
            format!("%syntax-version=1.0.0\n%project={name}\n%uri={name}\n\n"),
        )
    }

    pub fn control(&self, dir: &str, name: &str, requires: &[&str]) -> &Self {
        self.file(
            &format!("{dir}/{name}.control"),
            format!(
                "# {name} extension\ncomment = 'fixture {name}'\ndefault_version = '0.0.1'\nrequires = '{}'\nrelocatable = false\nsuperuser = false\n",
                requires.join(",")
            ),
        )
    }

    /// Append `line` to `<dir>/pgpm.plan` as written.
    pub fn plan_line(&self, dir: &str, line: &str) -> &Self {
        let plan = format!("{dir}/pgpm.plan");
        let mut text = self.read(&plan);
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
        self.file(&plan, text)
    }

    /// A change `name [deps]` planned in `<dir>` with its three scripts
    /// (each SQL as given, under pgpm's usual header comment).
    pub fn change(
        &self,
        dir: &str,
        name: &str,
        deps: &[&str],
        deploy: &str,
        revert: &str,
        verify: &str,
    ) -> &Self {
        let deps_text = if deps.is_empty() {
            String::new()
        } else {
            format!(" [{}]", deps.join(" "))
        };
        self.plan_line(dir, &format!("{name}{deps_text} {PLANNED} # add {name}"));
        self.file(
            &format!("{dir}/deploy/{name}.sql"),
            format!("-- Deploy {name} to pg\n{deploy}\n"),
        );
        self.file(
            &format!("{dir}/revert/{name}.sql"),
            format!("-- Revert {name} from pg\n{revert}\n"),
        );
        self.file(
            &format!("{dir}/verify/{name}.sql"),
            format!("-- Verify {name} on pg\n{verify}\n"),
        )
    }

    /// The usual first change: `CREATE SCHEMA <schema>`.
    pub fn schema_change(&self, dir: &str, name: &str, schema: &str) -> &Self {
        self.change(
            dir,
            name,
            &[],
            &format!("BEGIN;\nCREATE SCHEMA {schema};\nCOMMIT;"),
            &format!("BEGIN;\nDROP SCHEMA {schema};\nCOMMIT;"),
            &format!("SELECT 1/count(*) FROM pg_namespace WHERE nspname = '{schema}';"),
        )
    }

    /// A change creating table `<schema>.<table>`.
    pub fn table_change(&self, dir: &str, name: &str, deps: &[&str], table: &str) -> &Self {
        self.change(
            dir,
            name,
            deps,
            &format!("BEGIN;\nCREATE TABLE {table} (id int PRIMARY KEY, note text);\nCOMMIT;"),
            &format!("BEGIN;\nDROP TABLE {table};\nCOMMIT;"),
            &format!("SELECT id, note FROM {table} WHERE false;"),
        )
    }
}

#[test]
fn comment_only_scripts_deploy_revert_and_verify_as_recorded_no_ops() {
    let ws = Ws::new();
    let p = "packages/anchors";
    ws.module(p, "anchors", &["plpgsql"])
        .schema_change(p, "schemas/anchors/schema", "anchors")
        // a dependency anchor: every script only comments
        .change(
            p,
            "schemas/public/schema",
            &[],
            "-- nothing to do: public exists",
            "-- nothing to revert",
            "-- nothing to verify",
        )
        .table_change(
            p,
            "schemas/anchors/tables/t",
            &["schemas/anchors/schema", "schemas/public/schema"],
            "anchors.t",
        )
        // a deploy script of nothing but a header comment
        .file(
            &format!("{p}/deploy/schemas/public/schema.sql"),
            "-- Deploy schemas/public/schema to pg\n",
        );
    assert_same_under_both("comment_only", ws.path(), Target::ALL);
}

#[test]
fn begin_commit_only_scripts_deploy_revert_and_verify_as_recorded_no_ops() {
    let ws = Ws::new();
    let p = "packages/txonly";
    ws.module(p, "txonly", &["plpgsql"])
        .schema_change(p, "schema", "txonly")
        .change(
            p,
            "fixture",
            &["schema"],
            "BEGIN;\nCOMMIT;",
            "BEGIN;\n\nCOMMIT;",
            "BEGIN;\nROLLBACK;",
        )
        .table_change(p, "table", &["fixture"], "txonly.t");
    assert_same_under_both("begin_commit_only", ws.path(), Target::ALL);
}

#[test]
fn a_folder_with_two_control_files_holds_two_modules_sharing_its_plan() {
    let ws = Ws::new();
    let p = "packages/measurements";
    ws.module(p, "pgpm-measurements", &["plpgsql"])
        .control(p, "measurements", &["plpgsql"])
        .schema_change(p, "schema", "measurements")
        .table_change(p, "quantities", &["schema"], "measurements.quantities");
    assert_same_under_both("two_controls_all", ws.path(), Target::ALL);
    assert_same_under_both(
        "two_controls_alias",
        ws.path(),
        Target::module("measurements"),
    );
}

#[test]
fn cross_package_dependencies_deploy_in_dependency_order() {
    let ws = Ws::new();
    ws.module("packages/base", "base", &["plpgsql"])
        .schema_change("packages/base", "schema", "base")
        .table_change("packages/base", "things", &["schema"], "base.things");
    ws.module("packages/app", "app", &["plpgsql", "base"])
        .schema_change("packages/app", "schema", "app")
        .change(
            "packages/app",
            "views/things",
            &["schema", "base:things"],
            "CREATE VIEW app.things AS SELECT id FROM base.things;",
            "DROP VIEW app.things;",
            "SELECT id FROM app.things WHERE false;",
        );
    assert_same_under_both("cross_package_all", ws.path(), Target::ALL);
    assert_same_under_both("cross_package_app", ws.path(), Target::module("app"));
}

/// pgpm records a dependency listed twice in a plan once.
#[test]
fn a_dependency_listed_twice_is_recorded_once() {
    let ws = Ws::new();
    let p = "packages/twice";
    ws.module(p, "twice", &["plpgsql"])
        .schema_change(p, "schema", "twice")
        .table_change(p, "table", &["schema", "schema", "twice:schema"], "twice.t");
    assert_same_under_both("dependency_twice", ws.path(), Target::ALL);
}

#[test]
fn tags_and_package_tag_references_resolve_to_their_change() {
    let ws = Ws::new();
    let base = "packages/base";
    ws.module(base, "base", &["plpgsql"])
        .schema_change(base, "schema", "base")
        .plan_line(base, &format!("@v1.0.0 {PLANNED} # first release"))
        .table_change(base, "things", &["@v1.0.0"], "base.things")
        .plan_line(base, &format!("@v1.1.0 {PLANNED}"))
        .change(
            base,
            "late",
            &["base:@v1.1.0"],
            "SELECT 1;",
            "SELECT 1;",
            "SELECT 1;",
        );
    ws.module("packages/app", "app", &["base"])
        .change(
            "packages/app",
            "uses_tag",
            &["base:@v1.1.0", "base:@v1.0.0"],
            "CREATE FUNCTION base.count_things() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM base.things $$;",
            "DROP FUNCTION base.count_things();",
            "SELECT base.count_things();",
        );
    assert_same_under_both("tags", ws.path(), Target::ALL);
}

#[test]
fn modules_installed_under_extensions_and_a_scope_resolve_by_control_name() {
    let ws = Ws::new();
    let ext = "extensions/@acme/audit";
    ws.module(ext, "acme-audit", &["plpgsql"])
        .schema_change(ext, "schema", "audit")
        .table_change(ext, "log", &["schema"], "audit.log");
    ws.file(
        &format!("{ext}/package.json"),
        "{\"name\": \"@acme/audit\", \"version\": \"1.0.0\"}\n",
    );
    let plain = "extensions/plain";
    ws.module(plain, "plain-ext", &["plpgsql"])
        .schema_change(plain, "schema", "plain");
    ws.module("packages/app", "app", &["acme-audit", "plain-ext"])
        .change(
            "packages/app",
            "audit_view",
            &["acme-audit:log", "plain-ext:schema"],
            "CREATE VIEW plain.audit AS SELECT id FROM audit.log;",
            "DROP VIEW plain.audit;",
            "SELECT id FROM plain.audit WHERE false;",
        );
    assert_same_under_both("scoped_extensions", ws.path(), Target::module("app"));
}

#[test]
fn crlf_line_endings_in_plan_control_and_scripts() {
    let ws = Ws::new();
    let p = "packages/crlf";
    ws.module(p, "crlf", &["plpgsql"])
        .schema_change(p, "schema", "crlf")
        .table_change(p, "table", &["schema"], "crlf.t")
        .change(p, "anchor", &["table"], "-- nothing", "-- nothing", "-- nothing")
        .change(
            p,
            "function",
            &["table"],
            "CREATE FUNCTION crlf.f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;",
            "DROP FUNCTION crlf.f();",
            "SELECT crlf.f();",
        );
    to_crlf(&ws, p);
    assert_same_under_both("crlf", ws.path(), Target::ALL);
}

/// Rewrite every file under `dir` with CRLF line ends.
pub fn to_crlf(ws: &Ws, dir: &str) {
    fn walk(path: &Path) {
        for entry in std::fs::read_dir(path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replace("\r\n", "\n").replace('\n', "\r\n")).unwrap();
            }
        }
    }
    walk(&ws.path().join(dir));
}

const BOM: &[u8] = b"\xef\xbb\xbf";

fn with_bom(ws: &Ws, relative: &str) {
    let mut bytes = BOM.to_vec();
    bytes.extend(ws.read(relative));
    ws.file(relative, bytes);
}

#[test]
fn byte_order_marks_in_plan_and_control_files() {
    let ws = Ws::new();
    let p = "packages/bom";
    ws.module(p, "bom", &["plpgsql"])
        .schema_change(p, "schema", "bom")
        .table_change(p, "table", &["schema"], "bom.t");
    with_bom(&ws, &format!("{p}/pgpm.plan"));
    with_bom(&ws, &format!("{p}/bom.control"));
    assert_same_under_both("bom_plan_control", ws.path(), Target::ALL);
}

/// pgpm's engine hands every script to a SQL parser that stops at a
/// UTF-8 byte order mark (`syntax error at or near "\u{feff}"`), so pgpm
/// deploys no workspace with one in a script. jobsctl deploys it and
/// records the hash of the file's bytes, BOM included (pgpm's rule).
#[test]
fn a_byte_order_mark_in_a_script_stops_pgpm_and_jobsctl_records_the_files_bytes() {
    let ws = Ws::new();
    let p = "packages/bomsql";
    ws.module(p, "bomsql", &["plpgsql"])
        .schema_change(p, "schema", "bomsql")
        .table_change(p, "table", &["schema"], "bomsql.t");
    for kind in ["deploy", "revert", "verify"] {
        with_bom(&ws, &format!("{p}/{kind}/table.sql"));
    }
    let db = TestDb::new("bom_in_script_pgpm");
    let outcome = pgpm("deploy", ws.path(), None, &db);
    assert!(
        !outcome.ok,
        "pgpm now deploys a script with a BOM: make this fixture differential\n{}",
        outcome.log
    );
    assert!(
        outcome.log.contains("syntax error at or near"),
        "{}",
        outcome.describe()
    );

    let db = TestDb::new("bom_in_script_jobsctl");
    let path = ws.path().display().to_string();
    let run = jobsctl(&db, &["deploy", "-w", &path]);
    assert!(run.ok, "{}", run.text);
    let hash = sha256_hex(&ws.read(&format!("{p}/deploy/table.sql")));
    let rows = registry(&db);
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("bomsql table {hash} "))),
        "the hash of the file's bytes {hash} is not recorded:\n{}",
        rows.join("\n")
    );
    for command in [
        vec!["verify", "-w", &path],
        vec!["revert", "-w", &path, "-y"],
    ] {
        let run = jobsctl(&db, &command);
        assert!(run.ok, "{}", run.text);
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Native extensions the test server has, of `wanted`; the others are
/// named on stderr (the fixture then goes without them).
pub fn available_extensions(wanted: &[&str]) -> Vec<String> {
    let db = TestDb::new("available_extensions");
    let mut have = Vec::new();
    for name in wanted {
        let found = db.value(&format!(
            "SELECT count(*) FROM pg_available_extensions WHERE name = '{name}'"
        ));
        if found.as_deref() == Some("1") {
            have.push(name.to_string());
        } else {
            eprintln!("note: the test server has no extension {name}; left out");
        }
    }
    have
}

#[test]
fn native_extension_requires_are_created_before_the_module() {
    let natives = available_extensions(&["pgcrypto", "citext", "uuid-ossp", "hstore"]);
    let mut requires = vec!["plpgsql"];
    requires.extend(natives.iter().map(String::as_str));
    let ws = Ws::new();
    let p = "packages/natives";
    ws.module(p, "natives", &requires)
        .schema_change(p, "schema", "natives");
    let mut columns = vec!["id int PRIMARY KEY".to_owned()];
    for n in &natives {
        columns.push(match n.as_str() {
            "pgcrypto" => "salt text DEFAULT gen_salt('bf')".to_owned(),
            "citext" => "email citext".to_owned(),
            "uuid-ossp" => "uid uuid DEFAULT uuid_generate_v4()".to_owned(),
            "hstore" => "attrs hstore".to_owned(),
            other => unreachable!("{other}"),
        });
    }
    ws.change(
        p,
        "table",
        &["schema"],
        &format!("CREATE TABLE natives.t ({});", columns.join(", ")),
        "DROP TABLE natives.t;",
        "SELECT id FROM natives.t WHERE false;",
    );
    assert_same_under_both("natives", ws.path(), Target::ALL);
}

#[test]
fn plan_lines_without_timestamps_with_notes_and_comments() {
    let ws = Ws::new();
    let p = "packages/loose";
    ws.module(p, "loose", &["plpgsql"]);
    ws.plan_line(p, "# a comment line, then blank lines\n\n")
        .plan_line(p, "schema")
        .plan_line(p, "   table [schema]   ")
        .plan_line(
            p,
            &format!("view [table schema] {PLANNED} # a note: with [brackets] and # signs"),
        )
        .plan_line(p, "@v1 2025-08-26T23:58:00Z tester <tester@example.com>");
    for (name, deploy, revert, verify) in [
        (
            "schema",
            "CREATE SCHEMA loose;",
            "DROP SCHEMA loose;",
            "SELECT 'loose'::regnamespace;",
        ),
        (
            "table",
            "CREATE TABLE loose.t (id int);",
            "DROP TABLE loose.t;",
            "SELECT 'loose.t'::regclass;",
        ),
        (
            "view",
            "CREATE VIEW loose.v AS SELECT id FROM loose.t;",
            "DROP VIEW loose.v;",
            "SELECT 'loose.v'::regclass;",
        ),
    ] {
        ws.file(
            &format!("{p}/deploy/{name}.sql"),
            format!("-- Deploy loose:{name} to pg\n{deploy}\n"),
        )
        .file(&format!("{p}/revert/{name}.sql"), format!("{revert}\n"))
        .file(&format!("{p}/verify/{name}.sql"), format!("{verify}\n"));
    }
    assert_same_under_both("loose_plan", ws.path(), Target::ALL);
}

#[test]
fn nested_change_names_map_to_nested_script_folders() {
    let ws = Ws::new();
    let p = "packages/nested";
    ws.module(p, "nested", &["plpgsql"])
        .schema_change(p, "schemas/app/schema", "app")
        .table_change(
            p,
            "schemas/app/tables/users/table",
            &["schemas/app/schema"],
            "app.users",
        )
        .change(
            p,
            "schemas/app/tables/users/indexes/by_note",
            &["schemas/app/tables/users/table"],
            "CREATE INDEX users_note ON app.users (note);",
            "DROP INDEX app.users_note;",
            "SELECT 'app.users_note'::regclass;",
        );
    assert_same_under_both("nested_names", ws.path(), Target::ALL);
}

fn three_step_workspace() -> Ws {
    let ws = Ws::new();
    let p = "packages/steps";
    ws.module(p, "steps", &["plpgsql"])
        .schema_change(p, "one", "steps")
        .plan_line(p, &format!("@first {PLANNED}"))
        .table_change(p, "two", &["one"], "steps.two")
        .plan_line(p, &format!("@second {PLANNED}"))
        .table_change(p, "three", &["two"], "steps.three");
    ws
}

#[test]
fn deploy_up_to_a_change_stops_after_it() {
    let ws = three_step_workspace();
    assert_same_under_both("to_change", ws.path(), Target::up_to("steps", "two"));
}

#[test]
fn deploy_up_to_a_tag_stops_after_its_change() {
    let ws = three_step_workspace();
    assert_same_under_both("to_tag", ws.path(), Target::up_to("steps", "@first"));
}

#[test]
fn same_package_references_with_the_package_prefix_are_local() {
    let ws = Ws::new();
    let p = "packages/selfref";
    ws.module(p, "selfref", &["plpgsql"])
        .schema_change(p, "schema", "selfref")
        .table_change(p, "table", &["selfref:schema"], "selfref.t")
        .change(
            p,
            "view",
            &["selfref:table", "schema"],
            "CREATE VIEW selfref.v AS SELECT id FROM selfref.t;",
            "DROP VIEW selfref.v;",
            "SELECT 'selfref.v'::regclass;",
        );
    assert_same_under_both("self_prefix", ws.path(), Target::ALL);
}

/// pgpm names a module after its control file; when two folders hold the
/// same name, the shortest path wins (a workspace package over a copy
/// installed under extensions/).
#[test]
fn a_module_name_in_two_folders_resolves_to_the_shortest_path() {
    let ws = Ws::new();
    ws.module("packages/dup", "dup", &["plpgsql"])
        .schema_change("packages/dup", "schema", "dup_local");
    let ext = "extensions/@vendor/dup";
    ws.module(ext, "dup", &["plpgsql"])
        .schema_change(ext, "schema", "dup_installed");
    ws.module("packages/user", "user", &["dup"]).change(
        "packages/user",
        "uses",
        &["dup:schema"],
        "CREATE TABLE dup_local.t (id int);",
        "DROP TABLE dup_local.t;",
        "SELECT 'dup_local.t'::regclass;",
    );
    assert_same_under_both("shortest_path", ws.path(), Target::module("user"));
}

/// pgpm warns and goes on when a change has no verify script.
#[test]
fn a_change_without_a_verify_script() {
    let ws = Ws::new();
    let p = "packages/noverify";
    ws.module(p, "noverify", &["plpgsql"])
        .schema_change(p, "schema", "noverify")
        .table_change(p, "table", &["schema"], "noverify.t");
    std::fs::remove_file(ws.path().join(p).join("verify/table.sql")).unwrap();
    assert_same_under_both("no_verify_script", ws.path(), Target::ALL);
}

/// The registry's dependencies come from the plan; `-- requires:` lines in
/// a script's header are comments.
#[test]
fn requires_comments_in_script_headers_are_not_dependencies() {
    let ws = Ws::new();
    let p = "packages/headers";
    ws.module(p, "headers", &["plpgsql"])
        .schema_change(p, "schema", "headers")
        .table_change(p, "a", &["schema"], "headers.a")
        .table_change(p, "b", &["schema"], "headers.b");
    ws.file(
        &format!("{p}/deploy/b.sql"),
        "-- Deploy headers:b to pg\n-- requires: a\n-- requires: schema\n\nBEGIN;\nCREATE TABLE headers.b (id int PRIMARY KEY, note text);\nCOMMIT;\n",
    );
    assert_same_under_both("header_requires", ws.path(), Target::ALL);
}

/// pgpm.json's `packages` globs say where the workspace's packages are.
#[test]
fn package_folders_come_from_the_workspace_globs() {
    let ws = Ws::bare();
    ws.file(
        "pgpm.json",
        "{\n  \"packages\": [\"modules/*\", \"libs/*\"]\n}\n",
    );
    ws.module("modules/core", "core", &["plpgsql"])
        .schema_change("modules/core", "schema", "core");
    ws.module("libs/helpers", "helpers", &["core"]).change(
        "libs/helpers",
        "fn",
        &["core:schema"],
        "CREATE FUNCTION core.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "DROP FUNCTION core.one();",
        "SELECT core.one();",
    );
    assert_same_under_both("globs", ws.path(), Target::ALL);
}

/// A module that is not in the workspace's globs nor under extensions/
/// (here, a test fixture folder) is not a module of the workspace.
#[test]
fn control_files_outside_the_globs_are_not_modules() {
    let ws = Ws::new();
    ws.module("packages/real", "real", &["plpgsql"])
        .schema_change("packages/real", "schema", "real");
    ws.module("fixtures/stray", "stray", &["plpgsql"]).change(
        "fixtures/stray",
        "broken",
        &[],
        "THIS IS NOT SQL;",
        "SELECT 1;",
        "SELECT 1;",
    );
    let report = differential("outside_globs", ws.path(), Target::ALL);
    report.finish("outside_globs");
}
