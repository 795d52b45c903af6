//! The command line, as clap derive definitions and nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0    success, or nothing to do
  1    an operation ran and failed (a failed change, drift, a failed verify, a lock
       timeout), a lint finding under --strict stopped `plan` or `deploy` before anything
       ran, `status --exit-code` found pending changes, or the dev cluster is not running
  2    usage or configuration error (flags, jobsctl.toml, connection settings, an
       unreachable server), or an invalid workspace: nothing was run
  130  interrupted";

pub const LINT_EXIT_CODES: &str = "\
Exit codes:
  0    no finding, only silenced ones, or only warnings without --strict;
       with --locks: the report is complete (flagged locks or not)
  1    a finding that is an error (with --strict, every finding); with
       --locks: a change failed, so the report stops there
  2    usage or configuration error (flags, jobsctl.toml, an unknown rule name,
       connection settings, an unreachable server, --locks without -d), or an
       invalid workspace
  130  interrupted";

#[derive(Debug, Parser)]
#[command(
    name = "jobsctl",
    version,
    about = "Plan, deploy, revert and verify pgpm packages in PostgreSQL; ships the app_jobs job queue",
    long_about = "jobsctl carries a pgpm workspace (pgpm-jobs, the app_jobs background-job system, \
                  and its dependencies pgpm-default-roles and pgpm-verify) and works on any pgpm \
                  package or workspace on disk.",
    after_help = EXIT_CODES,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format: `human` text, or exactly one `json` document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to colour output; `auto` honours NO_COLOR and colours only terminals.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Print only errors and the final result: no per-change lines, notes or
    /// server notices (server warnings and waiting for the deploy lock still show).
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log what jobsctl does on stderr: -v connections, the deploy lock,
    /// registry migrations and the dev cluster's commands; -vv also every
    /// statement batch sent to the server; -vvv everything. RUST_LOG (e.g.
    /// `jobsctl=debug`) overrides.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The project configuration file; default: `jobsctl.toml` in the
    /// workspace folder (--workspace), else in the current folder, if there is one.
    #[arg(long, global = true, value_name = "FILE", env = "JOBSCTL_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a deploy would run, in order, without touching a database.
    ///
    /// Reads the workspace (the embedded one unless --workspace is given),
    /// checks every plan, control file and script, resolves dependencies
    /// across packages, and prints the native extensions, packages and
    /// changes in deploy order with their dependencies and transaction mode.
    /// Every problem found is reported as `path:line:column: message`.
    #[command(after_help = EXIT_CODES)]
    Plan(PlanArgs),
    /// Lint the deploy scripts a deploy would run for lock risks and breaking
    /// changes (squawk's rules), aware of the plan.
    ///
    /// Reads the workspace like `plan` and lints every pending change's
    /// deploy script in deploy order. A lock finding on a table created
    /// earlier in the same run (earlier in the script, or by an earlier
    /// pending change of any package) is dropped: nobody uses that table
    /// yet. Without -d/--target every change is pending (a fresh deploy);
    /// with one, the registry says what is deployed, and only the rest is
    /// linted. Silence a finding with `-- jobsctl:lint-ignore RULE: REASON`
    /// before the statement (or in the script's header, for the whole
    /// script), or in jobsctl.toml (`[lint]`, `[packages.NAME.lint]`).
    /// Findings are warnings (`plan` and `deploy` print them too); with
    /// --strict they are errors. See docs/lint.md.
    #[command(after_help = LINT_EXIT_CODES)]
    Lint(LintArgs),
    /// Deploy pending changes, in dependency order, and record them in the registry.
    ///
    /// Takes the deploy lock (a session advisory lock), installs or upgrades
    /// the `pgpm_migrate` registry, creates native extensions, then runs each
    /// pending change's deploy script and records it in the same transaction.
    /// A failure rolls its transaction back, is logged as an event and stops
    /// the run; the next run continues from there. A deployed change whose
    /// deploy script changed since (drift) stops the deploy unless
    /// --accept-drift is given.
    #[command(after_help = EXIT_CODES)]
    Deploy(DeployArgs),
    /// Revert deployed changes, newest first, and remove them from the registry.
    ///
    /// Without --to, reverts every deployed change of the selected packages.
    /// Refuses to revert a change that another deployed change depends on,
    /// unless that one is reverted in the same run. Asks for confirmation on a
    /// terminal; pass -y (--yes) elsewhere.
    #[command(after_help = EXIT_CODES)]
    Revert(RevertArgs),
    /// Run the verify script of every deployed change, each in a transaction
    /// that is always rolled back; report every failure with the server's error.
    ///
    /// Verifying a database where nothing is deployed is a failure.
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Show deployed, pending and drifted changes per package.
    #[command(after_help = EXIT_CODES)]
    Status(StatusArgs),
    /// Take over an app_jobs installation that pgpm deployed from the upstream
    /// package (@pgpm/database-jobs 0.16.0), in place, without losing a job.
    ///
    /// Recognises the installation by its registry rows (every script hash
    /// as published) and its catalog, checks the rows against our
    /// constraints (refusing, by id, what they reject), user objects that
    /// depend on app_jobs, the roles pgpm-default-roles would change and
    /// ownership; then, in ONE transaction under the deploy lock and
    /// ACCESS EXCLUSIVE locks on the three tables: deploys pgpm-verify's and
    /// pgpm-default-roles' pending changes, converts the tables in place,
    /// runs every pgpm-jobs change (the shared functions replaced with
    /// CREATE OR REPLACE), recounts job_queues keeping every lock, and
    /// rewrites the registry as `jobsctl deploy` would have written it.
    /// Exits 0 when adopted or when there is nothing to adopt, 1 when refused
    /// or failed (nothing changed). See README, "Adopting an existing installation".
    #[command(after_help = EXIT_CODES)]
    Adopt(AdoptArgs),
    /// Show the registry's event history (deploys, reverts, failures), newest first.
    #[command(after_help = EXIT_CODES)]
    Log(LogArgs),
    /// Create a new pgpm package folder (or, with --workspace, a pgpm workspace).
    ///
    /// A package gets `pgpm.plan`, `<name>.control`, empty `deploy/`,
    /// `revert/` and `verify/` folders, a README and a `.gitattributes` that
    /// keeps SQL line endings (and so script hashes) stable. Run inside a
    /// workspace (a folder with `pgpm.json` here or above), it creates
    /// `packages/<name>` of that workspace.
    #[command(after_help = EXIT_CODES)]
    Init(InitArgs),
    /// Add a change to a package: a plan line and its deploy, revert and verify scripts.
    ///
    /// The line is appended to `pgpm.plan` as it is (comments and layout
    /// kept), with the current UTC time and the planner (JOBSCTL_PLANNER_NAME
    /// and JOBSCTL_PLANNER_EMAIL, else `git config user.name`/`user.email` in
    /// the package folder, else the system user and `user@hostname`).
    /// Existing scripts are kept, never overwritten.
    #[command(after_help = EXIT_CODES)]
    Add(AddArgs),
    /// Tag the last change of a package's plan (`@name` marks the change above it).
    #[command(after_help = EXIT_CODES)]
    Tag(TagArgs),
    /// Write the embedded workspace out as a pgpm workspace folder.
    ///
    /// `packages/pgpm-jobs/` and, where pgpm keeps installed modules,
    /// `extensions/pgpm-default-roles/` and `extensions/pgpm-verify/`, with
    /// byte-identical scripts: a database deployed from the embedded
    /// workspace shows no drift when deployed from the export.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Bundle packages as PostgreSQL extensions (CREATE EXTENSION), or as one SQL file for psql.
    ///
    /// For each selected package and every package it depends on:
    /// `<name>--<version>.sql` (its deploy scripts in plan order, without
    /// their transaction statements), `<name>.control`, and one PGXS
    /// `Makefile` for all of them (`make install`, then
    /// `CREATE EXTENSION "<name>" CASCADE`). With --single-file, one plain
    /// SQL file instead, for `psql --single-transaction -v ON_ERROR_STOP=1 -f`.
    #[command(after_help = EXIT_CODES)]
    Bundle(BundleArgs),
    /// Run a throwaway local PostgreSQL (the dev cluster) from the machine's binaries.
    ///
    /// The cluster lives in `.jobsctl/dev` of the project (the folder of
    /// jobsctl.toml, else the nearest folder from the current one upward
    /// that has `.jobsctl/dev`, else the current folder), or in --data-dir.
    /// It listens only on a unix socket in a private folder, under a free
    /// port that is remembered across restarts; as root, the server runs as
    /// the `postgres` user. Database commands use it when no connection is
    /// configured (no -d, --target, DATABASE_URL, PGHOST, PGHOSTADDR,
    /// PGPORT, PGDATABASE or default target in jobsctl.toml) and it is running.
    #[command(after_help = EXIT_CODES)]
    Dev(DevArgs),
    /// Print a shell completion script for jobsctl on stdout.
    ///
    /// bash: `jobsctl completions bash > ~/.local/share/bash-completion/completions/jobsctl`;
    /// zsh: `jobsctl completions zsh > "${fpath[1]}/_jobsctl"`;
    /// fish: `jobsctl completions fish > ~/.config/fish/completions/jobsctl.fish`.
    Completions(CompletionsArgs),
    /// Print jobsctl's manual page (roff) on stdout: `jobsctl man | man -l -`.
    ///
    /// With a command name, that command's page (`jobsctl man deploy`); with
    /// --out-dir, every page (`jobsctl.1`, `jobsctl-deploy.1`, ...) written
    /// into a folder, e.g. `/usr/local/share/man/man1`.
    Man(ManArgs),
    /// Fire due scheduled jobs inside the database (app_jobs.run_due_scheduled_jobs).
    ///
    /// The schedules are evaluated by PostgreSQL; this command is one more
    /// caller, beside workers and pg_cron. Any number may run at once: each
    /// slot of each scheduled job fires once.
    #[command(after_help = EXIT_CODES)]
    Schedule(ScheduleArgs),
    /// Measure the app_jobs queue against a bare-limit queue and the
    /// first-generation design, in a throwaway database (`jobsctl_bench_<pid>`)
    /// created on the target server and dropped afterwards.
    ///
    /// Scenarios: steady, burndown, stuck, idle0, idle, enqueue, batched.
    /// Prints jobs/s, the ratio to the bare limit, shared buffers per claim
    /// and WAL bytes per job.
    #[command(after_help = EXIT_CODES)]
    Bench(BenchArgs),
    /// Run app_jobs jobs: claim, run with a handler per task, report; until SIGTERM/SIGINT.
    ///
    /// Handlers come from --task and `[worker.tasks.NAME]` of jobsctl.toml:
    /// `exec` runs a program (payload JSON on stdin, job metadata in
    /// JOBSCTL_JOB_* variables, exit 0 completes), `http` POSTs the payload
    /// (2xx completes), `callback` POSTs as @constructive-io/knative-job-worker
    /// does and waits for the function's callback. Claims name only these
    /// tasks. Wakes on `jobs:insert` notifications and polls; keeps running
    /// jobs' locks fresh; fires due scheduled jobs unless --no-schedule. The
    /// first SIGTERM/SIGINT stops claiming and waits --shutdown-timeout for
    /// running jobs, then stops them and releases them (no attempt spent);
    /// a second signal exits at once. Exits 0 after a clean stop, 130 when
    /// jobs had to be stopped. See docs/worker.md.
    #[command(after_help = EXIT_CODES)]
    Worker(WorkerArgs),
    /// Operate the app_jobs queue of a database: counts, jobs, retry, cancel,
    /// pause, purge.
    ///
    /// `stats` counts jobs per task and queue by state (ready, scheduled,
    /// running, retrying, failed, paused) with the oldest ready job's age and
    /// the longest running job; `list` and `show` print jobs; `retry` runs
    /// permanently failed jobs again; `cancel` deletes jobs that are not
    /// running; `purge` deletes permanently failed jobs older than a
    /// duration; `pause` and `resume` stop and restart claims from a named
    /// queue (enqueueing goes on). Running jobs are never touched. Mutating
    /// commands say how many jobs they would touch and ask for confirmation
    /// on a terminal; pass -y (--yes) elsewhere. Needs pgpm-jobs @0.6.0 or
    /// later (`jobsctl deploy`). See docs/app_jobs.md, "Operating the queue".
    #[command(after_help = EXIT_CODES)]
    Jobs(JobsArgs),
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// A task and its handler (repeatable): `NAME=exec:PROGRAM ARGS...`
    /// (words split like a shell's, no shell run), `NAME=http:URL`,
    /// `NAME=callback:URL` or `NAME=noop`; replaces jobsctl.toml's task of that name.
    #[arg(long = "task", value_name = "NAME=HANDLER")]
    pub tasks: Vec<String>,
    /// Jobs at once over all tasks; default: `[worker] concurrency`, else 4.
    #[arg(long, short = 'c', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub concurrency: Option<u32>,
    /// Seconds between claims when no notification comes; default 1.
    #[arg(long, value_name = "SECONDS")]
    pub poll_interval: Option<f64>,
    /// After SIGTERM/SIGINT, seconds to wait for running jobs before stopping
    /// and releasing them; default 25.
    #[arg(long, value_name = "SECONDS")]
    pub shutdown_timeout: Option<f64>,
    /// Do not fire due scheduled jobs (app_jobs.run_due_scheduled_jobs).
    #[arg(long)]
    pub no_schedule: bool,
    /// This worker's id (locked_by); must be unique among running workers;
    /// default: `[worker] worker_id`, else `<host>-<pid>-<random>`.
    #[arg(long, value_name = "ID")]
    pub worker_id: Option<String>,
    /// Stop when no job is runnable and none is running (batch runs, tests).
    #[arg(long)]
    pub once: bool,
    /// Log lines as text or as one JSON object per line (on stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
    /// Serve Prometheus metrics on HOST:PORT (e.g. 127.0.0.1:9187).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Serve the callback URL of `callback` tasks on HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub callback_addr: Option<std::net::SocketAddr>,
    /// The callback URL handed to functions (X-Callback-Url); default:
    /// `http://<callback-addr>/callback`.
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Call app_jobs.run_due_scheduled_jobs() once, or every --every seconds
    /// until Ctrl-C, and print the jobs it fired.
    #[command(after_help = EXIT_CODES)]
    Run(ScheduleRunArgs),
}

#[derive(Debug, Args)]
pub struct ScheduleRunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Call again every SECONDS seconds until Ctrl-C (default: call once).
    #[arg(long, value_name = "SECONDS")]
    pub every: Option<f64>,
    /// With --every: stop after N calls.
    #[arg(long, value_name = "N", requires = "every", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_runs: Option<u64>,
    /// At most N jobs per call (the function's max_jobs); the rest fire in the next call.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(i32).range(1..))]
    pub max_jobs: i32,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// CI mode: tiny sizes and short runs; checks that the harness works, in seconds.
    #[arg(long)]
    pub short: bool,
    /// Concurrent client connections per scenario.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub clients: usize,
    /// Seconds per scenario and design (default 8, with --short 0.7).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Split each design's time into N slices, the designs of a scenario
    /// taking turns, so that a change of load hits them alike; for the
    /// deploy scenario, N deploys per tool (default 4, deploy 7; with
    /// --short 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub rounds: Option<u64>,
    /// Only this scenario (repeatable): steady, burndown, stuck, idle0, idle, enqueue, batched,
    /// deploy (jobsctl deploy into fresh databases next to psql --single-transaction),
    /// worker (jobsctl worker next to graphile-worker's runner; only when named).
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Also measure the peers, graphile-worker and the upstream
    /// @pgpm/database-jobs, in burndown, stuck and enqueue: node runs
    /// DIR/setup.mjs (`npm ci` in DIR first), which installs them into the
    /// bench database from DIR/node_modules and says what to run; e.g.
    /// bench/peers (scripts/bench-peers.sh). Without it no node is needed.
    #[arg(long, value_name = "DIR")]
    pub peers: Option<PathBuf>,
    /// worker scenario: jobs at once per worker process (--clients is the
    /// number of processes of each runner).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub concurrency: u32,
    /// worker scenario: jobs per round for the no-op runners (default 10000,
    /// with --short 200); the exec runner gets a fifth.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// worker scenario: the folder with run.mjs and graphile-worker installed
    /// (`npm ci`); default bench/graphile of the current directory.
    #[arg(long, value_name = "DIR")]
    pub graphile_dir: Option<PathBuf>,
    /// worker scenario: also run this jobsctl binary's worker (noop), e.g. a
    /// build from before a change, to measure the change in the same run.
    #[arg(long, value_name = "PATH")]
    pub baseline_exe: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`deploy`, `dev`, `dev start`, ...); default: jobsctl's.
    #[arg(value_name = "COMMAND", num_args = 0..)]
    pub command: Vec<String>,
    /// Write every page into this folder instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The dev cluster's folder (created by `dev start`); default: `.jobsctl/dev`
    /// of the project, or `[dev] data_dir` of jobsctl.toml.
    #[arg(long, global = true, value_name = "DIR", env = "JOBSCTL_DEV_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: DevCommand,
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Create the cluster if needed, start it and wait until it accepts connections.
    ///
    /// Already running: says so and succeeds. A new cluster gets its
    /// database (`jobs`, or `[dev] database` of jobsctl.toml) created.
    #[command(after_help = EXIT_CODES)]
    Start(DevStartArgs),
    /// Stop the cluster (fast shutdown: open sessions are rolled back). Its data stays.
    #[command(after_help = EXIT_CODES)]
    Stop,
    /// Say whether the cluster runs, and its pid, port, socket folder, data folder
    /// and version; exits with 1 when it is not running.
    #[command(after_help = EXIT_CODES)]
    Status,
    /// Print `export PGHOST=... PGPORT=... PGUSER=... PGDATABASE=...` for the
    /// running cluster: `eval "$(jobsctl dev env)"`. Exits with 1 when it is not running.
    #[command(after_help = EXIT_CODES)]
    Env,
}

#[derive(Debug, Args)]
pub struct DevStartArgs {
    /// The port (the socket's name, `.s.PGSQL.<port>`); default: the one the
    /// cluster used before, else a free one.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The database: a `postgres://` URL, a `key=value` conninfo string or a
    /// database name. Otherwise --target, then DATABASE_URL and the PG*
    /// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ...)
    /// and ~/.pgpass as libpq reads them, then jobsctl.toml's default target,
    /// then the running dev cluster, then libpq's defaults.
    #[arg(long, short = 'd', value_name = "URL")]
    pub database_url: Option<String>,
    /// A target of jobsctl.toml (`[targets.NAME]`), or `dev` for the dev cluster.
    #[arg(long, value_name = "NAME", conflicts_with = "database_url")]
    pub target: Option<String>,
}

/// `--tx`: the engine's transaction scope (`engine::TxScope`), as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TxScope {
    /// One transaction per change (the default).
    Change,
    /// One transaction per package.
    Package,
    /// One transaction for the whole run; a change that must run outside a
    /// transaction commits what came before it.
    All,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Create the database first if it does not exist.
    #[arg(long)]
    pub createdb: bool,
    /// Deploy up to and including this change: `change`, `@tag`, `package:change`
    /// or `package:@tag`.
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
    /// Transaction scope; default: `[defaults] tx` of jobsctl.toml, else `change`.
    #[arg(long, value_enum, value_name = "SCOPE", env = "JOBSCTL_TX")]
    pub tx: Option<TxScope>,
    /// Print what would run and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Record pending changes as deployed without running them (adopt a database
    /// whose objects already exist).
    #[arg(long)]
    pub log_only: bool,
    /// Deploy even though deployed changes' scripts differ from the registry's hashes.
    #[arg(long, conflicts_with = "replace_drift")]
    pub accept_drift: bool,
    /// Replace every drifted change (in range) with the local scripts: its local
    /// revert script, then its deploy script, and its registry row rewritten, in
    /// one transaction per change (e.g. to replace an older release of an
    /// installed module that does not provide what the local packages need).
    #[arg(long)]
    pub replace_drift: bool,
    /// How long to wait for another deployer's lock, in seconds; default:
    /// `[defaults] lock_timeout` of jobsctl.toml, else 60.
    #[arg(long, value_name = "SECONDS", env = "JOBSCTL_LOCK_TIMEOUT")]
    pub lock_timeout: Option<f64>,
    #[command(flatten)]
    pub change_locks: ChangeLockArgs,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print every check and step and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for another deployer's lock, and for the app_jobs
    /// table locks (tried for 2 s at a time, so that workers queued behind
    /// the request are not held up), in seconds; default: `[defaults]
    /// lock_timeout` of jobsctl.toml, else 60.
    #[arg(long, value_name = "SECONDS", env = "JOBSCTL_LOCK_TIMEOUT")]
    pub lock_timeout: Option<f64>,
    /// Accept that pgpm-default-roles changes existing roles (e.g. makes a
    /// LOGIN `administrator` NOLOGIN, adds BYPASSRLS and memberships); roles
    /// are shared by every database of the cluster.
    #[arg(long)]
    pub allow_role_changes: bool,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Revert every change deployed after this one; it stays deployed.
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Transaction scope; default: `[defaults] tx` of jobsctl.toml, else `change`.
    #[arg(long, value_enum, value_name = "SCOPE", env = "JOBSCTL_TX")]
    pub tx: Option<TxScope>,
    /// Print what would be reverted and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for another deployer's lock, in seconds; default:
    /// `[defaults] lock_timeout` of jobsctl.toml, else 60.
    #[arg(long, value_name = "SECONDS", env = "JOBSCTL_LOCK_TIMEOUT")]
    pub lock_timeout: Option<f64>,
    #[command(flatten)]
    pub change_locks: ChangeLockArgs,
}

/// How each change waits for the locks its statements take (deploy, revert).
#[derive(Debug, Args)]
pub struct ChangeLockArgs {
    /// `lock_timeout` for each change's own statements, e.g. `500ms`, `5s`
    /// (not for the registry's; not the deploy lock, that is --lock-timeout).
    /// A change that times out (SQLSTATE 55P03) runs again, see
    /// --lock-retries, and who blocked it is shown. Default: `[defaults]
    /// change_lock_timeout` of jobsctl.toml, else none (the session's own).
    #[arg(long, value_name = "DURATION", env = "JOBSCTL_CHANGE_LOCK_TIMEOUT")]
    pub change_lock_timeout: Option<String>,
    /// How often a change that gave up waiting for a lock runs again, after
    /// 1 s, 2 s, 4 s, ... (at most 30 s) from its start; default: `[defaults]
    /// lock_retries` of jobsctl.toml, else 5 with a change lock timeout, else 0.
    #[arg(long, value_name = "N", env = "JOBSCTL_LOCK_RETRIES", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub lock_retries: Option<u32>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Verify deployed changes up to and including this one.
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Exit with 1 when any change is pending or drifted (for CI gates).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only this package's events.
    #[arg(long = "package", short = 'p', value_name = "NAME")]
    pub package: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// The database whose registry says which changes are deployed; only
    /// -d/--database-url or --target count here (no environment or dev
    /// cluster fallback): without one, every change is pending.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Instead of linting: run the pending changes on the database named with
    /// -d, in one transaction that is always rolled back, and report the
    /// locks each takes on relations that existed before, with their size;
    /// ACCESS EXCLUSIVE on a table with rows is flagged (docs/locks.md).
    #[arg(long)]
    pub locks: bool,
    /// With --locks: up to and including this change: `change`, `@tag`,
    /// `package:change` or `package:@tag`.
    #[arg(long, value_name = "TARGET", requires = "locks")]
    pub to: Option<String>,
    /// With --locks: `lock_timeout` of each change in the report's
    /// transaction (a change that cannot get its locks fails, naming who
    /// holds them); default 5s.
    #[arg(long, value_name = "DURATION", requires = "locks")]
    pub lock_timeout: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    /// A pgpm package or workspace folder (a folder with a `*.control` file, or with
    /// `pgpm.json`); default: `[defaults] workspace` of jobsctl.toml, else the
    /// workspace embedded in jobsctl.
    #[arg(long, short = 'w', value_name = "DIR", env = "JOBSCTL_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// Only this package and what it depends on (repeatable); default: every package.
    #[arg(long = "package", short = 'p', value_name = "NAME")]
    pub packages: Vec<String>,
    /// Treat warnings as errors: what pgpm accepts but usually hides a mistake
    /// (an empty deploy script, ...) and drift in installed modules; default:
    /// `[defaults] strict` of jobsctl.toml, else off.
    #[arg(long, env = "JOBSCTL_STRICT", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0, default_missing_value = "true")]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The package (or workspace) name: letters, digits, `-` and `_`.
    pub name: String,
    /// Create a pgpm workspace (`pgpm.json`, `packages/`) instead of a package.
    #[arg(long)]
    pub workspace: bool,
    /// An extension or package the new package requires (repeatable, or
    /// comma-separated); default: plpgsql.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub requires: Vec<String>,
    /// The control file's comment; default: `<name> extension`.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Work as if started in DIR.
    #[arg(long = "directory", short = 'C', value_name = "DIR")]
    pub directory: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PackageDirArgs {
    /// The package folder (the one with the `*.control` file and `pgpm.plan`);
    /// default: the current folder.
    #[arg(long = "package-dir", short = 'C', value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The change name, e.g. `schemas/app/tables/users/table` (`/` makes sub-folders).
    pub change: String,
    /// A change it depends on (repeatable): `change`, `@tag`, `package:change`
    /// or `package:@tag`.
    #[arg(long, short = 'r', value_name = "DEPENDENCY")]
    pub requires: Vec<String>,
    /// A note for the plan line.
    #[arg(long, short = 'n', value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub package: PackageDirArgs,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The tag name, with or without its `@`, e.g. `v1.0.0`.
    pub name: String,
    /// The change to tag; it must be the last change of the plan (a tag marks
    /// the change above it). Default: the last change.
    #[arg(long, value_name = "CHANGE")]
    pub change: Option<String>,
    /// A note for the tag line.
    #[arg(long, short = 'n', value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub package: PackageDirArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The folder to write the workspace into; created if missing, and it must
    /// be empty unless --force is given.
    pub dir: PathBuf,
    /// Write into a non-empty folder: files of the same path are replaced,
    /// other files are left alone.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// The folder for the extension files and the Makefile; default: the
    /// current folder.
    #[arg(long, value_name = "DIR", conflicts_with = "single_file")]
    pub out: Option<PathBuf>,
    /// Write one plain SQL file for `psql --single-transaction -f` instead
    /// of extension files: native extensions first, then every package in
    /// dependency order.
    #[arg(long, value_name = "PATH")]
    pub single_file: Option<PathBuf>,
    /// Replace existing files that jobsctl did not generate.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: JobsCommand,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Job counts per task and queue by state, the oldest ready job's age,
    /// the longest running job, and the paused queues.
    #[command(after_help = EXIT_CODES)]
    Stats(JobsStatsArgs),
    /// List jobs in id order, with their state.
    #[command(after_help = EXIT_CODES)]
    List(JobsListArgs),
    /// One job: payload, attempts, last error, lock holder and lock age.
    #[command(after_help = EXIT_CODES)]
    Show(JobsShowArgs),
    /// Run permanently failed jobs again (attempts reset to 0, run_at now or
    /// --run-at); without ids or filters, every permanently failed job.
    #[command(after_help = EXIT_CODES)]
    Retry(JobsRetryArgs),
    /// Delete jobs that are not running (by ids or filters; at least one).
    #[command(after_help = EXIT_CODES)]
    Cancel(JobsCancelArgs),
    /// Delete permanently failed jobs whose last failure is older than --older-than.
    #[command(after_help = EXIT_CODES)]
    Purge(JobsPurgeArgs),
    /// Pause a named queue: its jobs are enqueued but not claimed until resumed.
    #[command(after_help = EXIT_CODES)]
    Pause(JobsQueueArgs),
    /// Resume a paused queue: its jobs are claimed again, in their order.
    #[command(after_help = EXIT_CODES)]
    Resume(JobsQueueArgs),
}

/// Which jobs: every given filter applies (AND).
#[derive(Debug, Args)]
pub struct JobsFilterArgs {
    /// Only jobs of this task identifier.
    #[arg(long, value_name = "TASK")]
    pub task: Option<String>,
    /// Only jobs of this named queue.
    #[arg(long, value_name = "QUEUE")]
    pub queue: Option<String>,
    /// Only jobs of this tenant (app_jobs' database_id, a uuid).
    #[arg(long, value_name = "UUID")]
    pub database_id: Option<String>,
}

/// Confirmation of a mutating command.
#[derive(Debug, Args)]
pub struct YesArgs {
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct JobsStatsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only jobs of this tenant (app_jobs' database_id, a uuid).
    #[arg(long, value_name = "UUID")]
    pub database_id: Option<String>,
    /// Redraw every SECONDS seconds until Ctrl-C (human format, on a terminal).
    #[arg(long, value_name = "SECONDS")]
    pub watch: Option<f64>,
}

#[derive(Debug, Args)]
pub struct JobsListArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub filter: JobsFilterArgs,
    /// Only jobs in this state.
    #[arg(long, value_enum)]
    pub state: Option<JobState>,
    /// At most N jobs.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..))]
    pub limit: i64,
}

/// The state of a job, as app_jobs.job_stats counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JobState {
    /// Due now (a named queue's job once its running job is done).
    Ready,
    /// Due later, never attempted.
    Scheduled,
    /// Locked by a worker.
    Running,
    /// Due later, after a failed attempt.
    Retrying,
    /// Permanently failed (attempts reached max_attempts).
    Failed,
    /// In a paused queue.
    Paused,
}

#[derive(Debug, Args)]
pub struct JobsShowArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The job's id.
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct JobsRetryArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Job ids (default: every permanently failed job the filters select).
    #[arg(value_name = "ID")]
    pub ids: Vec<i64>,
    #[command(flatten)]
    pub filter: JobsFilterArgs,
    /// When to run them: a timestamp PostgreSQL reads (default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub run_at: Option<String>,
    #[command(flatten)]
    pub yes: YesArgs,
}

#[derive(Debug, Args)]
pub struct JobsCancelArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Job ids.
    #[arg(value_name = "ID")]
    pub ids: Vec<i64>,
    #[command(flatten)]
    pub filter: JobsFilterArgs,
    #[command(flatten)]
    pub yes: YesArgs,
}

#[derive(Debug, Args)]
pub struct JobsPurgeArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Age of the last failure: `30d`, `12h`, `90m`, `45s`, `2w`, or a
    /// PostgreSQL interval (`'1 mon'`).
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
    #[command(flatten)]
    pub filter: JobsFilterArgs,
    #[command(flatten)]
    pub yes: YesArgs,
}

#[derive(Debug, Args)]
pub struct JobsQueueArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The queue's name (app_jobs.jobs.queue_name).
    pub queue: String,
    #[command(flatten)]
    pub yes: YesArgs,
}
