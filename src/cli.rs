//! The command line, as clap derive definitions and nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0    success, or nothing to do
  1    an operation ran and failed (a failed change, drift, a failed verify)
  2    usage or configuration error, or an invalid workspace: nothing was run
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
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    /// A pgpm package or workspace folder (a folder with a `*.control` file, or with
    /// `pgpm.json`); default: the workspace embedded in jobsctl.
    #[arg(long, short = 'w', value_name = "DIR", env = "JOBSCTL_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// Only this package and what it depends on (repeatable); default: every package.
    #[arg(long = "package", short = 'p', value_name = "NAME")]
    pub packages: Vec<String>,
}
