//! The peers of `jobsctl bench --peers DIR`: other job queues measured in
//! the same run as `app_jobs` and the reference designs.
//!
//! jobsctl carries none of their SQL. `DIR` (normally `bench/peers`) is an
//! npm project pinning the peers (`npm ci` there); its `setup.mjs`, run by
//! node against the bench database, installs each peer with the peer's own
//! installer or deploy scripts and prints one JSON document ([`PeerDoc`])
//! saying, per peer and scenario, the preload SQL and the statements one
//! client loop runs, with their parameters. The bench then runs those
//! statements from its own clients, like every other design's.

use super::scenarios::{Loop, Plan, Sizes};
use crate::db::Settings;
use postgres::types::{ToSql, Type};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// What `setup.mjs` prints.
#[derive(Debug, Deserialize)]
pub struct PeerDoc {
    /// `node --version` of the node that ran it.
    pub node: String,
    pub designs: Vec<Peer>,
}

/// One peer design.
#[derive(Clone, Debug, Deserialize)]
pub struct Peer {
    /// The design's name in the report (`graphile-worker`, `upstream`).
    pub name: String,
    /// The npm package version installed.
    pub version: String,
    /// What each client session runs once after connecting.
    #[serde(default)]
    pub session_setup: Vec<String>,
    /// How its claim+complete is run and what buf/claim counts.
    pub claim_note: String,
    /// Per scenario name (`burndown`, `stuck`, `enqueue`).
    pub scenarios: BTreeMap<String, PeerScenario>,
}

/// A peer as the report names it.
#[derive(Debug, Serialize)]
pub struct PeerSummary {
    pub name: String,
    pub version: String,
    pub node: String,
    /// How its claim+complete runs and what buf/claim counts.
    pub claim_note: String,
    /// Per scenario, the statements of one client loop, as measured.
    pub statements: BTreeMap<String, Vec<String>>,
}

impl Peer {
    pub fn summary(&self, node: &str) -> PeerSummary {
        PeerSummary {
            name: self.name.clone(),
            version: self.version.clone(),
            node: node.to_string(),
            claim_note: self.claim_note.clone(),
            statements: self
                .scenarios
                .iter()
                .map(|(name, s)| {
                    (
                        name.clone(),
                        s.steps.iter().map(|st| st.sql.clone()).collect(),
                    )
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct PeerScenario {
    /// Preload and clear statements, run before the clock; `$BACKLOG` and
    /// `$STUCK` stand for the scenario's sizes.
    pub setup: Vec<String>,
    /// One loop of a client: the first step claims (or adds) and returns
    /// the job's `id` (no row, or a NULL `id`, when there is none); the
    /// next ones get that id as a parameter.
    pub steps: Vec<Step>,
    /// Burn-downs: the count of the backlog not done.
    #[serde(default)]
    pub remaining: Option<String>,
}

/// One statement of a client loop, exactly as the peer sends it.
#[derive(Clone, Debug, Deserialize)]
pub struct Step {
    pub sql: String,
    pub params: Vec<Param>,
}

/// A parameter of a [`Step`]; every parameter is sent as text (the
/// statement is prepared with text parameters; the peers' statements cast
/// them, e.g. `$2::int[]`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    /// The client's worker id (`bench-<pid>-<client>`).
    Worker,
    /// The id the first step returned.
    Id,
    /// A constant (NULL when absent).
    Text(Option<String>),
}

/// Run `setup.mjs` of `dir` against the bench database `db`: installs the
/// peers there and returns what to run. Its stderr goes to `progress`, and
/// into the error when it fails.
pub fn install(dir: &Path, db: &Settings, progress: &dyn Fn(&str)) -> Result<PeerDoc, String> {
    let script = dir.join("setup.mjs");
    if !script.is_file() {
        return Err(format!("--peers {}: no setup.mjs there", dir.display()));
    }
    if !dir.join("node_modules").is_dir() {
        return Err(format!(
            "--peers {}: the peers are not installed: run `npm ci` there (scripts/bench-peers.sh does)",
            dir.display()
        ));
    }
    let output = Command::new("node")
        .arg("setup.mjs")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .envs(db.libpq_env())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("--peers: cannot run node: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "--peers: node setup.mjs in {} failed ({}):\n{}",
            dir.display(),
            output.status,
            stderr.trim_end()
        ));
    }
    stderr.lines().for_each(progress);
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("--peers: setup.mjs printed no peer document: {e}"))
}

/// The plan of `scenario` for `peer`, when the peer takes part in it.
pub fn plan(peer: &Peer, scenario: &str, sizes: &Sizes) -> Option<Plan> {
    let s = peer.scenarios.get(scenario)?;
    let first = s.steps.first()?;
    let (kind, target_jobs) = match scenario {
        "burndown" | "stuck" => (Loop::BurnDown, sizes.backlog),
        "enqueue" => (Loop::Enqueue, 0),
        _ => return None,
    };
    Some(Plan {
        setup: s
            .setup
            .iter()
            .map(|sql| {
                sql.replace("$BACKLOG", &sizes.backlog.to_string())
                    .replace("$STUCK", &sizes.stuck.to_string())
            })
            .collect(),
        session: peer.session_setup.clone(),
        kind,
        statement: first.sql.clone(),
        steps: s.steps.clone(),
        enqueue: None,
        target_jobs,
        remaining: s.remaining.clone().filter(|_| kind == Loop::BurnDown),
    })
}

/// A client's prepared steps.
pub struct Prepared(Vec<(postgres::Statement, Vec<Param>)>);

impl Prepared {
    pub fn new(client: &mut postgres::Client, steps: &[Step]) -> Result<Prepared, String> {
        steps
            .iter()
            .map(|s| {
                let types = vec![Type::TEXT; s.params.len()];
                client
                    .prepare_typed(&s.sql, &types)
                    .map(|st| (st, s.params.clone()))
                    .map_err(|e| format!("{}: {e}", s.sql))
            })
            .collect::<Result<_, _>>()
            .map(Prepared)
    }

    /// One loop: 1 when the first step returned a job, else 0 (and the
    /// other steps are not run). Each statement is its own transaction.
    pub fn run(&self, client: &mut postgres::Client, worker: &str) -> Result<u64, String> {
        let mut id: Option<String> = None;
        for (k, (statement, params)) in self.0.iter().enumerate() {
            let values: Vec<Option<String>> = params
                .iter()
                .map(|p| match p {
                    Param::Worker => Some(worker.to_string()),
                    Param::Id => id.clone(),
                    Param::Text(t) => t.clone(),
                })
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            let rows = client
                .query(statement, &refs)
                .map_err(|e| format!("peer step {}: {e}", k + 1))?;
            if k == 0 {
                id = rows
                    .iter()
                    .find_map(|r| r.try_get::<_, Option<i64>>("id").ok().flatten())
                    .map(|i| i.to_string());
                if id.is_none() {
                    return Ok(0);
                }
            }
        }
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_document_reads_and_plans() {
        let doc: PeerDoc = serde_json::from_str(
            r#"{"node":"v20","designs":[{"name":"p","version":"1","claim_note":"n",
              "scenarios":{"burndown":{"setup":["SELECT $BACKLOG"],
                "steps":[{"sql":"SELECT 1 AS id","params":["worker",{"text":"{1}"},{"text":null}]},
                         {"sql":"SELECT $1::bigint","params":["id"]}],
                "remaining":"SELECT 0"}}}]}"#,
        )
        .unwrap();
        let peer = &doc.designs[0];
        assert_eq!(
            peer.scenarios["burndown"].steps[0].params,
            vec![
                Param::Worker,
                Param::Text(Some("{1}".into())),
                Param::Text(None)
            ]
        );
        let plan = plan(peer, "burndown", &Sizes::new(true)).unwrap();
        assert_eq!(plan.setup, vec!["SELECT 300".to_string()]);
        assert_eq!(plan.statement, "SELECT 1 AS id");
        assert!(super::plan(peer, "idle", &Sizes::new(true)).is_none());
    }
}
