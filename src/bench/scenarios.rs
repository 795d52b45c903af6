//! What each scenario does to each design: the SQL of the preload and of
//! the statement every client runs in its loop.

/// The designs measured in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// The deployed `app_jobs` schema.
    AppJobs,
    /// The deployed `app_jobs` schema, its sessions with
    /// `app_jobs.notify = 'coalesce'` (enqueuing scenarios only).
    AppJobsCoalesce,
    /// `bench_bare`: minimal table, one partial index, claim = DELETE.
    Bare,
    /// `bench_naive`: the first-generation design.
    Naive,
    /// A peer of `--peers`, by its index in the peer document
    /// (`bench::peers`).
    Peer(usize),
}

impl Design {
    /// Whether the design is the deployed `app_jobs` schema.
    pub fn is_app_jobs(self) -> bool {
        matches!(self, Design::AppJobs | Design::AppJobsCoalesce)
    }

    /// What each client session runs once after connecting.
    fn session_setup(self) -> Vec<String> {
        match self {
            Design::AppJobsCoalesce => vec!["SET app_jobs.notify = 'coalesce'".into()],
            _ => Vec::new(),
        }
    }

    /// The name in the table (peers: their own name, see `bench::peers`).
    pub fn name(self) -> &'static str {
        match self {
            Design::AppJobs => "app_jobs",
            Design::AppJobsCoalesce => "app_jobs/coalesce",
            Design::Bare => "bare",
            Design::Naive => "naive",
            Design::Peer(_) => "peer",
        }
    }

    /// The name in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Design::AppJobsCoalesce => "app_jobs_coalesce",
            d => d.name(),
        }
    }
}

/// The scenarios, in run order.
pub const SCENARIOS: &[&str] = &[
    "steady", "burndown", "stuck", "idle0", "idle", "enqueue", "batched",
];

/// What the scenario measures per client loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// Enqueue one job, then claim and complete one (two transactions).
    Steady,
    /// Claim and complete until the backlog is empty (or the time is up).
    BurnDown,
    /// Empty claims for the whole duration.
    Poll,
    /// Enqueue one job per transaction.
    Enqueue,
}

pub struct Sizes {
    pub backlog: i64,
    pub stuck: i64,
    pub future: i64,
}

impl Sizes {
    pub fn new(short: bool) -> Sizes {
        if short {
            Sizes {
                backlog: 300,
                stuck: 200,
                future: 1_000,
            }
        } else {
            Sizes {
                backlog: 50_000,
                stuck: 20_000,
                future: 100_000,
            }
        }
    }
}

/// One scenario for one design: setup SQL (run once, before the clock)
/// and the statement each client repeats.
pub struct Plan {
    /// Statements run one by one before the clock.
    pub setup: Vec<String>,
    /// What each client session runs once after connecting.
    pub session: Vec<String>,
    pub kind: Loop,
    /// The statement of the loop; returns one bigint: jobs done (0 = none).
    /// For a peer: its first step (the claim, or the add), whose buffers
    /// the report gives.
    pub statement: String,
    /// A peer's loop (`bench::peers`), run instead of `statement` when not
    /// empty.
    pub steps: Vec<super::peers::Step>,
    /// Steady only: the enqueue statement run before each claim.
    pub enqueue: Option<&'static str>,
    /// Jobs a burn-down must finish (backlog size), for the report.
    pub target_jobs: i64,
    /// Burn-downs: counts the backlog left.
    pub remaining: Option<String>,
}

const TENANT: &str = "5b720132-17d5-424d-9bcb-ee7b17c13d43";

fn clear(design: Design) -> &'static str {
    match design {
        Design::AppJobs | Design::AppJobsCoalesce => "TRUNCATE app_jobs.jobs, app_jobs.job_queues;",
        Design::Bare => "TRUNCATE bench_bare.jobs;",
        Design::Naive => "TRUNCATE bench_naive.jobs, bench_naive.job_queues;",
        Design::Peer(_) => unreachable!("peers bring their own SQL"),
    }
}

fn table(design: Design) -> &'static str {
    match design {
        Design::AppJobs | Design::AppJobsCoalesce => "app_jobs.jobs",
        Design::Bare => "bench_bare.jobs",
        Design::Naive => "bench_naive.jobs",
        Design::Peer(_) => unreachable!("peers bring their own SQL"),
    }
}

/// `n` jobs with `run_at` = `run_at`, task `bench`, optional queue expression.
fn insert(design: Design, n: i64, run_at: &str, queue: Option<&str>) -> String {
    let t = table(design);
    match (design, queue) {
        (Design::AppJobs | Design::AppJobsCoalesce, None) => format!(
            "INSERT INTO {t} (database_id, task_identifier, run_at) \
             SELECT '{TENANT}', 'bench', {run_at} FROM generate_series(1, {n}) AS n;"
        ),
        (Design::AppJobs | Design::AppJobsCoalesce, Some(q)) => format!(
            "INSERT INTO {t} (database_id, task_identifier, run_at, queue_name) \
             SELECT '{TENANT}', 'bench', {run_at}, {q} FROM generate_series(1, {n}) AS n;"
        ),
        (_, None) => format!(
            "INSERT INTO {t} (task_identifier, run_at) SELECT 'bench', {run_at} FROM generate_series(1, {n}) AS n;"
        ),
        (_, Some(q)) => format!(
            "INSERT INTO {t} (task_identifier, run_at, queue_name) \
             SELECT 'bench', {run_at}, {q} FROM generate_series(1, {n}) AS n;"
        ),
    }
}

const CLAIM_COMPLETE_APP: &str = "SELECT count(c.id) FROM app_jobs.get_job($1) AS g \
     CROSS JOIN LATERAL app_jobs.complete_job($1, g.id) AS c";
const CLAIM_COMPLETE_NAIVE: &str =
    "SELECT count(bench_naive.complete_job($1, bench_naive.get_job($1)))";
const CLAIM_COMPLETE_BARE: &str = "WITH d AS (DELETE FROM bench_bare.jobs WHERE id = \
     (SELECT id FROM bench_bare.jobs WHERE locked_at IS NULL AND run_at <= now() \
      ORDER BY priority, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id) \
     SELECT count(*) FROM d";
const BATCH_APP: &str = "SELECT count(*) FROM app_jobs.complete_claimed_jobs($1, \
     ARRAY(SELECT id FROM app_jobs.get_jobs($1, batch_size := 50)))";
const BATCH_BARE: &str = "WITH c AS MATERIALIZED (SELECT id FROM bench_bare.jobs \
     WHERE locked_at IS NULL AND run_at <= now() ORDER BY priority, run_at, id LIMIT 50 \
     FOR UPDATE SKIP LOCKED), d AS (DELETE FROM bench_bare.jobs AS j USING c \
     WHERE j.id = c.id RETURNING j.id) SELECT count(*) FROM d";
const POLL_APP: &str = "SELECT count(g.id) FROM app_jobs.get_job($1) AS g";
const POLL_NAIVE: &str = "SELECT count(bench_naive.get_job($1))";
const ENQ_APP: &str =
    "SELECT count((app_jobs.add_job('5b720132-17d5-424d-9bcb-ee7b17c13d43', 'bench')).id)";
const ENQ_NAIVE: &str = "SELECT count(bench_naive.add_job('bench'))";
const ENQ_BARE: &str = "WITH i AS (INSERT INTO bench_bare.jobs (task_identifier) VALUES ('bench') \
     RETURNING id) SELECT count(*) FROM i";

/// The designs a scenario applies to.
pub fn designs(scenario: &str) -> &'static [Design] {
    match scenario {
        // no named queues in the bare design
        "stuck" => &[Design::AppJobs, Design::Naive],
        // the naive design has no batch API
        "batched" => &[Design::AppJobs, Design::Bare],
        // what notifications cost the enqueuer
        "steady" | "enqueue" => &[
            Design::AppJobs,
            Design::AppJobsCoalesce,
            Design::Bare,
            Design::Naive,
        ],
        _ => &[Design::AppJobs, Design::Bare, Design::Naive],
    }
}

/// The scenario whose bare-limit figure a scenario's ratio uses.
pub fn bare_reference(scenario: &str) -> &'static str {
    match scenario {
        "stuck" => "burndown",
        "batched" => "burndown",
        s => SCENARIOS
            .iter()
            .find(|n| **n == s)
            .copied()
            .unwrap_or("burndown"),
    }
}

/// Counts the backlog left after a burn-down.
fn remaining(design: Design) -> &'static str {
    match design {
        Design::Bare => "SELECT count(*) FROM bench_bare.jobs",
        Design::Naive => {
            "SELECT count(*) FROM bench_naive.jobs WHERE locked_at IS NULL AND queue_name IS NULL"
        }
        _ => "SELECT count(*) FROM app_jobs.jobs WHERE locked_at IS NULL AND queue_name IS NULL",
    }
}

/// The plan of a built-in design (peers: `bench::peers::plan`).
pub fn plan(scenario: &str, design: Design, sizes: &Sizes) -> Option<Plan> {
    if matches!(design, Design::Peer(_)) {
        return None;
    }
    let claim = match design {
        Design::AppJobs | Design::AppJobsCoalesce => CLAIM_COMPLETE_APP,
        Design::Bare => CLAIM_COMPLETE_BARE,
        Design::Naive | Design::Peer(_) => CLAIM_COMPLETE_NAIVE,
    };
    let enqueue = match design {
        Design::AppJobs | Design::AppJobsCoalesce => ENQ_APP,
        Design::Bare => ENQ_BARE,
        Design::Naive | Design::Peer(_) => ENQ_NAIVE,
    };
    let poll = match design {
        Design::AppJobs | Design::AppJobsCoalesce => POLL_APP,
        Design::Bare => CLAIM_COMPLETE_BARE,
        Design::Naive | Design::Peer(_) => POLL_NAIVE,
    };
    let mut setup = clear(design).to_owned();
    let due = "now() - interval '1 hour' + n * interval '1 microsecond'";
    let plan = match scenario {
        "steady" => Plan {
            setup: vec![setup],
            session: Vec::new(),
            steps: Vec::new(),
            remaining: None,
            kind: Loop::Steady,
            statement: claim.into(),
            enqueue: Some(enqueue),
            target_jobs: 0,
        },
        "burndown" => {
            setup.push_str(&insert(design, sizes.backlog, due, None));
            Plan {
                setup: vec![setup],
                session: Vec::new(),
                steps: Vec::new(),
                remaining: None,
                kind: Loop::BurnDown,
                statement: claim.into(),
                enqueue: None,
                target_jobs: sizes.backlog,
            }
        }
        "stuck" => {
            // the stuck jobs come first in (priority, run_at, id) order: two
            // named queues whose running job never finishes
            setup.push_str(&insert(
                design,
                sizes.stuck,
                "now() - interval '2 hours' + n * interval '1 microsecond'",
                Some("'stuck-' || (n % 2)"),
            ));
            let (jobs, queues) = match design {
                Design::AppJobs | Design::AppJobsCoalesce => {
                    ("app_jobs.jobs", "app_jobs.job_queues")
                }
                Design::Naive => ("bench_naive.jobs", "bench_naive.job_queues"),
                Design::Bare | Design::Peer(_) => return None,
            };
            setup.push_str(&format!(
                "UPDATE {jobs} SET locked_at = now(), locked_by = 'stuck-worker', attempts = 1 \
                  WHERE id IN (SELECT min(id) FROM {jobs} WHERE queue_name IS NOT NULL GROUP BY queue_name); \
                 UPDATE {queues} SET locked_at = now(), locked_by = 'stuck-worker';"
            ));
            setup.push_str(&insert(design, sizes.backlog, due, None));
            Plan {
                setup: vec![setup],
                session: Vec::new(),
                steps: Vec::new(),
                remaining: None,
                kind: Loop::BurnDown,
                statement: claim.into(),
                enqueue: None,
                target_jobs: sizes.backlog,
            }
        }
        "idle0" => Plan {
            setup: vec![setup],
            session: Vec::new(),
            steps: Vec::new(),
            remaining: None,
            kind: Loop::Poll,
            statement: poll.into(),
            enqueue: None,
            target_jobs: 0,
        },
        "idle" => {
            setup.push_str(&insert(
                design,
                sizes.future,
                "now() + interval '1 day' + n * interval '1 millisecond'",
                None,
            ));
            Plan {
                setup: vec![setup],
                session: Vec::new(),
                steps: Vec::new(),
                remaining: None,
                kind: Loop::Poll,
                statement: poll.into(),
                enqueue: None,
                target_jobs: 0,
            }
        }
        "enqueue" => Plan {
            setup: vec![setup],
            session: Vec::new(),
            steps: Vec::new(),
            remaining: None,
            kind: Loop::Enqueue,
            statement: enqueue.into(),
            enqueue: None,
            target_jobs: 0,
        },
        "batched" => {
            setup.push_str(&insert(design, sizes.backlog, due, None));
            let statement = match design {
                Design::AppJobs | Design::AppJobsCoalesce => BATCH_APP,
                Design::Bare => BATCH_BARE,
                Design::Naive | Design::Peer(_) => return None,
            };
            Plan {
                setup: vec![setup],
                session: Vec::new(),
                steps: Vec::new(),
                remaining: None,
                kind: Loop::BurnDown,
                statement: statement.into(),
                enqueue: None,
                target_jobs: sizes.backlog,
            }
        }
        _ => return None,
    };
    let mut plan = plan;
    let mut setup = plan.setup.concat();
    setup.push_str(&format!("VACUUM ANALYZE {};", table(design)));
    if design != Design::Bare {
        let q = if design.is_app_jobs() {
            "app_jobs.job_queues"
        } else {
            "bench_naive.job_queues"
        };
        setup.push_str(&format!("VACUUM ANALYZE {q};"));
    }
    plan.setup = setup
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    plan.session = design.session_setup();
    if plan.kind == Loop::BurnDown {
        plan.remaining = Some(remaining(design).into());
    }
    Some(plan)
}
