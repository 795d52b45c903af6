//! The targets of issue 16 ("everyday speed") against the figures of one
//! run with `--peers`: `app_jobs` (default settings) next to bare,
//! graphile-worker and the upstream design, in the same run.

use super::BenchResult;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Target {
    /// What is compared, e.g. `burndown: app_jobs / graphile-worker`.
    pub what: String,
    pub measured: f64,
    /// `>= goal` (or `<= goal` for buffers).
    pub goal: f64,
    pub at_most: bool,
    pub met: bool,
}

/// The targets whose figures the run has (none without peers).
pub fn check(results: &[BenchResult]) -> Vec<Target> {
    let rate = |scenario: &str, design: &str| {
        results
            .iter()
            .find(|r| r.scenario == scenario && r.design_name == design)
    };
    let mut out = Vec::new();
    let mut push = |what: String, measured: Option<f64>, goal: f64, at_most: bool| {
        if let Some(measured) = measured {
            let met = if at_most {
                measured <= goal
            } else {
                measured >= goal
            };
            out.push(Target {
                what,
                measured,
                goal,
                at_most,
                met,
            });
        }
    };
    let ratio = |scenario: &str, over_scenario: &str, over: &str| {
        let a = rate(scenario, "app_jobs")?.per_second;
        let b = rate(over_scenario, over)?.per_second;
        (b > 0.0).then(|| a / b)
    };
    if !results
        .iter()
        .any(|r| matches!(r.design, super::Design::Peer(_)))
    {
        return out;
    }
    for (peer, goal) in [("graphile-worker", 1.1), ("upstream", 1.0), ("bare", 0.75)] {
        push(
            format!("burndown: app_jobs / {peer}"),
            ratio("burndown", "burndown", peer),
            goal,
            false,
        );
    }
    push(
        "burndown: app_jobs buffers per claim".into(),
        rate("burndown", "app_jobs").and_then(|r| r.buffers_per_claim),
        80.0,
        true,
    );
    for (peer, goal) in [("upstream", 1.0), ("graphile-worker", 2.0)] {
        push(
            format!("enqueue: app_jobs / {peer}"),
            ratio("enqueue", "enqueue", peer),
            goal,
            false,
        );
    }
    push(
        "stuck: app_jobs / upstream".into(),
        ratio("stuck", "stuck", "upstream"),
        20.0,
        false,
    );
    push(
        "stuck: app_jobs / app_jobs burndown".into(),
        ratio("stuck", "burndown", "app_jobs"),
        0.9,
        false,
    );
    out
}

/// The targets as lines of the human report.
pub fn human(targets: &[Target]) -> String {
    let mut out = String::new();
    if targets.is_empty() {
        return out;
    }
    out.push_str("\ntargets (issue 16)\n");
    for t in targets {
        out.push_str(&format!(
            "  {:<40} {:>8.2}  {} {:<5} {}\n",
            t.what,
            t.measured,
            if t.at_most { "<=" } else { ">=" },
            t.goal,
            if t.met { "met" } else { "NOT met" }
        ));
    }
    out
}
