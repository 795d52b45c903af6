//! Random pgpm workspaces from a seed: several packages (under packages/
//! and extensions/, scoped or not), a random dependency graph inside and
//! across packages, tags and references to them (`@tag`, `pkg:@tag`,
//! `pkg:change`), comment-only and BEGIN/COMMIT-only changes, CRLF files,
//! byte order marks on plans and control files, and schemas, tables,
//! columns, views, functions, indexes and types.
//!
//! Scripts never start with a byte order mark: pgpm's engine cannot run
//! such a script (see fixtures.rs), so it would only test pgpm.

use crate::common::Rng;
use crate::fixtures::{PLANNED, Ws};
use std::fmt::Write as _;

#[derive(Clone)]
enum Object {
    Table { name: String },
    Type { name: String },
}

#[derive(Clone)]
struct Made {
    package: usize,
    /// Index of the change in its package's plan.
    change: usize,
    object: Object,
}

struct Package {
    name: String,
    dir: String,
    schema: String,
    requires: Vec<usize>,
    changes: Vec<String>,
    /// Tags: (name, index of the change they follow).
    tags: Vec<(String, usize)>,
    plan: String,
}

const NAMES: [&str; 8] = [
    "alpha",
    "bravo",
    "charlie-pkg",
    "delta",
    "echo_pkg",
    "foxtrot",
    "golf",
    "hotel",
];

pub struct Generated {
    pub ws: Ws,
    /// One line per package: where it is, what it requires, its changes.
    pub summary: String,
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

fn chance(rng: &mut Rng, percent: u64) -> bool {
    rng.below(100) < percent
}

pub fn generate(seed: u64) -> Generated {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
    let ws = Ws::new();
    let count = 2 + rng.below(3) as usize;
    let mut packages: Vec<Package> = Vec::new();
    let mut made: Vec<Made> = Vec::new();
    let mut summary = String::new();

    for (i, name) in NAMES.iter().take(count).enumerate() {
        let name = (*name).to_owned();
        let dir = match rng.below(10) {
            0 | 1 => format!("extensions/@gen/{name}"),
            2 => format!("extensions/{name}"),
            _ => format!("packages/{name}"),
        };
        let requires: Vec<usize> = (0..i).filter(|_| chance(&mut rng, 55)).collect();
        let mut control_requires: Vec<String> = vec!["plpgsql".into()];
        if chance(&mut rng, 20) && server_has_pgcrypto() {
            control_requires.push("pgcrypto".into());
        }
        for &r in &requires {
            control_requires.push(packages[r].name.clone());
        }
        if chance(&mut rng, 30) {
            control_requires.reverse();
        }
        let control = format!(
            "# {name} extension\ncomment = 'generated {name}'\ndefault_version = '0.0.{}'\nrequires = '{}'\nrelocatable = false\nsuperuser = false\n",
            rng.below(9),
            control_requires.join(",")
        );
        let mut package = Package {
            name: name.clone(),
            dir: dir.clone(),
            schema: format!("s_{}", name.replace('-', "_")),
            requires,
            changes: Vec::new(),
            tags: Vec::new(),
            plan: format!("%syntax-version=1.0.0\n%project={name}\n%uri={name}\n\n"),
        };
        // The schema first (sometimes under a nested name).
        let schema_change = if chance(&mut rng, 50) {
            format!("schemas/{}/schema", package.schema)
        } else {
            "schema".to_owned()
        };
        let schema = package.schema.clone();
        let pi = packages.len();
        add_change(
            &ws,
            &mut rng,
            &mut package,
            &schema_change,
            vec![],
            Script {
                deploy: format!("CREATE SCHEMA {schema};"),
                revert: format!("DROP SCHEMA {schema};"),
                verify: format!("SELECT 1/count(*) FROM pg_namespace WHERE nspname = '{schema}';"),
            },
        );
        let changes = 2 + rng.below(6) as usize;
        for n in 1..=changes {
            // Objects this package may use: its own so far, and those of
            // the packages it requires.
            let visible: Vec<Made> = made
                .iter()
                .filter(|m| m.package == pi || package.requires.contains(&m.package))
                .cloned()
                .collect();
            let tables: Vec<&Made> = visible
                .iter()
                .filter(|m| matches!(m.object, Object::Table { .. }))
                .collect();
            let types: Vec<&Made> = visible
                .iter()
                .filter(|m| matches!(m.object, Object::Type { .. }))
                .collect();
            let mut uses: Vec<(usize, usize)> = vec![(pi, 0)];
            let (base, script, object) = match rng.below(100) {
                0..=29 => {
                    let table = format!("{schema}.t{n}");
                    let mut columns = "id int PRIMARY KEY, note text".to_owned();
                    if !types.is_empty() && chance(&mut rng, 40) {
                        let t = pick(&mut rng, &types);
                        if let Object::Type { name } = &t.object {
                            write!(columns, ", kind {name}").unwrap();
                        }
                        uses.push((t.package, t.change));
                    }
                    if !tables.is_empty() && chance(&mut rng, 30) {
                        let t = pick(&mut rng, &tables);
                        if let Object::Table { name } = &t.object {
                            write!(columns, ", ref_id int REFERENCES {name} (id)").unwrap();
                        }
                        uses.push((t.package, t.change));
                    }
                    let object = Some(Object::Table {
                        name: table.clone(),
                    });
                    (
                        format!("tables/t{n}"),
                        Script {
                            deploy: format!("CREATE TABLE {table} ({columns});"),
                            revert: format!("DROP TABLE {table};"),
                            verify: format!("SELECT id, note FROM {table} WHERE false;"),
                        },
                        object,
                    )
                }
                30..=41 if !tables.is_empty() => {
                    let t = pick(&mut rng, &tables);
                    let Object::Table { name: source } = &t.object else {
                        unreachable!()
                    };
                    uses.push((t.package, t.change));
                    let view = format!("{schema}.v{n}");
                    (
                        format!("views/v{n}"),
                        Script {
                            deploy: format!(
                                "CREATE VIEW {view} AS\n  SELECT id, note FROM {source};"
                            ),
                            revert: format!("DROP VIEW {view};"),
                            verify: format!("SELECT id FROM {view} WHERE false;"),
                        },
                        None,
                    )
                }
                42..=55 => {
                    let f = format!("{schema}.f{n}");
                    let body = match tables.is_empty() {
                        false if chance(&mut rng, 60) => {
                            let t = pick(&mut rng, &tables);
                            let Object::Table { name } = &t.object else {
                                unreachable!()
                            };
                            uses.push((t.package, t.change));
                            format!("SELECT x + count(*)::int FROM {name}")
                        }
                        _ => format!("SELECT x + {n}"),
                    };
                    let deploy = if chance(&mut rng, 50) {
                        format!(
                            "CREATE FUNCTION {f}(x int) RETURNS int\nLANGUAGE sql STABLE AS $$\n  {body}\n$$;"
                        )
                    } else {
                        format!(
                            "CREATE FUNCTION {f}(x int) RETURNS int\nLANGUAGE plpgsql AS $body$\nDECLARE\n  result int;\nBEGIN\n  {body} INTO result;\n  RETURN result; -- ; inside a body\nEND;\n$body$;\nCOMMENT ON FUNCTION {f}(int) IS 'generated; with a semicolon';"
                        )
                    };
                    (
                        format!("functions/f{n}"),
                        Script {
                            deploy,
                            revert: format!("DROP FUNCTION {f}(int);"),
                            verify: format!("SELECT '{f}(int)'::regprocedure;"),
                        },
                        None,
                    )
                }
                56..=64 if !tables.is_empty() => {
                    let t = pick(&mut rng, &tables);
                    let Object::Table { name: table } = &t.object else {
                        unreachable!()
                    };
                    uses.push((t.package, t.change));
                    let table_schema = table.split('.').next().unwrap();
                    let index = format!("ix_{}_{n}", package.schema);
                    (
                        format!("indexes/{index}"),
                        Script {
                            deploy: format!("CREATE INDEX {index} ON {table} (note);"),
                            revert: format!("DROP INDEX {table_schema}.{index};"),
                            verify: format!("SELECT '{table_schema}.{index}'::regclass;"),
                        },
                        None,
                    )
                }
                65..=73 if !tables.is_empty() => {
                    let t = pick(&mut rng, &tables);
                    let Object::Table { name: table } = &t.object else {
                        unreachable!()
                    };
                    uses.push((t.package, t.change));
                    let column = format!("c_{}_{n}", package.schema);
                    (
                        format!("columns/{column}"),
                        Script {
                            deploy: format!(
                                "ALTER TABLE {table} ADD COLUMN {column} int DEFAULT {n};"
                            ),
                            revert: format!("ALTER TABLE {table} DROP COLUMN {column};"),
                            verify: format!("SELECT {column} FROM {table} WHERE false;"),
                        },
                        None,
                    )
                }
                74..=83 => {
                    let ty = format!("{schema}.e{n}");
                    let deploy = if chance(&mut rng, 50) {
                        format!("CREATE TYPE {ty} AS ENUM ('small', 'large');")
                    } else {
                        format!("CREATE TYPE {ty} AS (a int, b text);")
                    };
                    (
                        format!("types/e{n}"),
                        Script {
                            deploy,
                            revert: format!("DROP TYPE {ty};"),
                            verify: format!("SELECT '{ty}'::regtype;"),
                        },
                        Some(Object::Type { name: ty.clone() }),
                    )
                }
                _ => {
                    // A change with nothing to run: a dependency anchor.
                    uses.clear();
                    let script = if chance(&mut rng, 50) {
                        Script {
                            deploy: "-- nothing to deploy".into(),
                            revert: "-- nothing to revert".into(),
                            verify: "-- nothing to verify".into(),
                        }
                    } else {
                        Script {
                            deploy: "BEGIN;\nCOMMIT;".into(),
                            revert: "BEGIN;\nCOMMIT;".into(),
                            verify: "-- nothing".into(),
                        }
                    };
                    (format!("anchors/a{n}"), script, None)
                }
            };
            let change = if chance(&mut rng, 30) {
                format!("schemas/{schema}/{base}")
            } else {
                base
            };
            // Extra dependencies on earlier changes of this package.
            for earlier in 0..package.changes.len() {
                if chance(&mut rng, 12) {
                    uses.push((pi, earlier));
                }
            }
            let deps = references(&mut rng, &packages, &package, pi, &uses);
            let index = package.changes.len();
            add_change(&ws, &mut rng, &mut package, &change, deps, script);
            if let Some(object) = object {
                made.push(Made {
                    package: pi,
                    change: index,
                    object,
                });
            }
        }
        // The plan and the control file, sometimes with CRLF or a BOM.
        let mut plan = package.plan.clone();
        if chance(&mut rng, 15) {
            plan = plan.replace('\n', "\r\n");
        }
        let mut control = control;
        if chance(&mut rng, 15) {
            control = control.replace('\n', "\r\n");
        }
        ws.file(&format!("{dir}/pgpm.plan"), with_bom(&mut rng, plan));
        ws.file(
            &format!("{dir}/{name}.control"),
            with_bom(&mut rng, control),
        );
        if dir.starts_with("extensions/@gen/") {
            ws.file(
                &format!("{dir}/package.json"),
                format!("{{\"name\": \"@gen/{name}\", \"version\": \"0.0.1\"}}\n"),
            );
        }
        writeln!(
            summary,
            "{dir}: requires {:?}; {} changes, tags {:?}",
            control_requires,
            package.changes.len(),
            package
                .tags
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
        )
        .unwrap();
        packages.push(package);
    }
    Generated { ws, summary }
}

/// Whether the test server has pgcrypto (a server build without contrib,
/// as in some of scripts/pg-matrix.sh's, does not).
fn server_has_pgcrypto() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| !crate::fixtures::available_extensions(&["pgcrypto"]).is_empty())
}

fn with_bom(rng: &mut Rng, text: String) -> Vec<u8> {
    let mut bytes = Vec::new();
    if chance(rng, 10) {
        bytes.extend_from_slice(b"\xef\xbb\xbf");
    }
    bytes.extend(text.into_bytes());
    bytes
}

struct Script {
    deploy: String,
    revert: String,
    verify: String,
}

/// The plan's dependency list for `uses` ((package, change index) pairs):
/// `change`, `pkg:change` (also for the own package, sometimes), `@tag`
/// or `pkg:@tag` of a tag at or after that change (and, in the own
/// package, before the change being added).
fn references(
    rng: &mut Rng,
    packages: &[Package],
    own: &Package,
    pi: usize,
    uses: &[(usize, usize)],
) -> Vec<String> {
    let mut deps: Vec<String> = Vec::new();
    for &(p, c) in uses {
        let package = if p == pi { own } else { &packages[p] };
        let tags: Vec<&(String, usize)> = package.tags.iter().filter(|(_, at)| *at >= c).collect();
        let dep = if !tags.is_empty() && chance(rng, 35) {
            let (tag, _) = pick(rng, &tags);
            if p == pi && chance(rng, 60) {
                format!("@{tag}")
            } else {
                format!("{}:@{tag}", package.name)
            }
        } else if p == pi && !chance(rng, 20) {
            package.changes[c].clone()
        } else {
            format!("{}:{}", package.name, package.changes[c])
        };
        if !deps.contains(&dep) {
            deps.push(dep);
        }
    }
    deps
}

fn add_change(
    ws: &Ws,
    rng: &mut Rng,
    package: &mut Package,
    change: &str,
    deps: Vec<String>,
    script: Script,
) {
    let deps_text = if deps.is_empty() {
        String::new()
    } else {
        format!(" [{}]", deps.join(" "))
    };
    // pgpm's plan parser: planner, email and note only after a timestamp.
    let planned = if chance(rng, 85) {
        format!(" {PLANNED}")
    } else {
        String::new()
    };
    let note = if !planned.is_empty() && chance(rng, 40) {
        format!(" # add {change}")
    } else {
        String::new()
    };
    writeln!(package.plan, "{change}{deps_text}{planned}{note}").unwrap();
    let requires: String = deps.iter().map(|d| format!("-- requires: {d}\n")).collect();
    let wrap = |rng: &mut Rng, sql: &str| -> String {
        if sql.starts_with("--") || sql.starts_with("BEGIN;") || !chance(rng, 60) {
            format!("{sql}\n")
        } else {
            format!("BEGIN;\n\n{sql}\n\nCOMMIT;\n")
        }
    };
    let name = &package.name;
    let deploy = format!(
        "-- Deploy {name}:{change} to pg\n{requires}\n{}",
        wrap(rng, &script.deploy)
    );
    let revert = format!(
        "-- Revert {name}:{change} from pg\n\n{}",
        wrap(rng, &script.revert)
    );
    let verify = format!(
        "-- Verify {name}:{change} on pg\n\n{}",
        script.verify + "\n"
    );
    for (kind, text) in [("deploy", deploy), ("revert", revert), ("verify", verify)] {
        let text = if chance(rng, 12) {
            text.replace('\n', "\r\n")
        } else {
            text
        };
        ws.file(&format!("{}/{kind}/{change}.sql", package.dir), text);
    }
    package.changes.push(change.to_owned());
    if chance(rng, 25) {
        let tag = format!("v{}.{}", package.changes.len(), rng.below(10));
        // A tag line needs its timestamp, planner and email in pgpm.
        let note = if chance(rng, 30) { " # release" } else { "" };
        writeln!(package.plan, "@{tag} {PLANNED}{note}").unwrap();
        package.tags.push((tag, package.changes.len() - 1));
    }
}

/// Seeds of this run: `JOBSCTL_PGPM_DIFF_SEED=S` alone, else the first
/// `JOBSCTL_PGPM_DIFF_RANDOM` (50) of a fixed sequence.
pub fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("JOBSCTL_PGPM_DIFF_SEED") {
        return vec![
            seed.trim()
                .parse()
                .expect("JOBSCTL_PGPM_DIFF_SEED: a number"),
        ];
    }
    let count: u64 = std::env::var("JOBSCTL_PGPM_DIFF_RANDOM")
        .ok()
        .map(|n| {
            n.trim()
                .parse()
                .expect("JOBSCTL_PGPM_DIFF_RANDOM: a number")
        })
        .unwrap_or(50);
    (1..=count).collect()
}

#[test]
fn random_workspaces_deploy_verify_and_revert_identically() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seeds = seeds();
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&seed) = seeds.get(k) else { break };
                    let generated = generate(seed);
                    let report = crate::differential(
                        &format!("random_{seed}"),
                        generated.ws.path(),
                        crate::Target::ALL,
                    );
                    if !report.is_clean() {
                        let problems = report.into_problems().join("\n\n");
                        let kept = if std::env::var_os("JOBSCTL_PGPM_DIFF_KEEP").is_some() {
                            format!("kept in {}\n", generated.ws.keep().display())
                        } else {
                            "(JOBSCTL_PGPM_DIFF_KEEP=1 keeps the workspace)\n".to_owned()
                        };
                        let text = format!("{kept}{}\n{problems}", generated.summary);
                        failures.lock().unwrap().push((seed, text));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|(seed, _)| *seed);
    eprintln!(
        "{} random workspaces in {:.1} s",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let list: Vec<String> = failures.iter().map(|(s, _)| s.to_string()).collect();
        let shown: Vec<String> = failures
            .iter()
            .take(3)
            .map(|(seed, text)| {
                format!("=== seed {seed} (rerun: JOBSCTL_PGPM_DIFF_SEED={seed}) ===\n{text}")
            })
            .collect();
        panic!(
            "{} of {} random workspaces differ under pgpm and jobsctl; seeds: {}\n\n{}",
            failures.len(),
            seeds.len(),
            list.join(", "),
            shown.join("\n\n")
        );
    }
}

/// The generator is deterministic: a seed names one workspace.
#[test]
fn the_generator_gives_the_same_workspace_for_a_seed() {
    fn files(ws: &Ws) -> Vec<(String, Vec<u8>)> {
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push((
                        path.strip_prefix(root).unwrap().display().to_string(),
                        std::fs::read(&path).unwrap(),
                    ));
                }
            }
        }
        let mut out = Vec::new();
        walk(ws.path(), ws.path(), &mut out);
        out.sort();
        out
    }
    for seed in [1, 7, 42] {
        assert_eq!(
            files(&generate(seed).ws),
            files(&generate(seed).ws),
            "seed {seed}"
        );
    }
}
