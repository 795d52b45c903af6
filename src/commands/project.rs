//! What a command knows about the project it runs in: jobsctl.toml, the
//! current folder and the environment; and from them, flags merged with
//! their defaults (flags > environment > jobsctl.toml > built-in) and the
//! database to connect to.
//!
//! The connection, first match wins:
//!
//! 1. `-d/--database-url`;
//! 2. `--target NAME` (a `[targets.NAME]` of jobsctl.toml, or `dev`);
//! 3. the environment: `DATABASE_URL`, or any of `PGHOST`, `PGHOSTADDR`,
//!    `PGPORT`, `PGDATABASE` (libpq's variables that pick a server or a
//!    database; `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, ... only fill in);
//! 4. `[defaults] target` of jobsctl.toml;
//! 5. the dev cluster, when it is running (`using the dev cluster at ...`
//!    on stderr);
//! 6. libpq's defaults (the local socket, port 5432, the OS user).
//!
//! Whatever string 1, 2 or 4 gives, the `PG*` variables fill in the options
//! it leaves out, as libpq does (a target without a password takes
//! `PGPASSWORD`, say).

use crate::cli::{self, ConnectionArgs, GlobalArgs};
use crate::config::{Config, TargetRef};
use crate::db::Settings;
use crate::dev::{self, Cluster};
use crate::engine::TxScope;
use crate::engine::deploy::DriftPolicies;
use crate::engine::lock_wait::{LockPolicy, parse_duration};
use crate::error::Error;
use crate::output::Printer;
use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};

/// The variables that, set (non-empty), mean "a connection is configured".
pub const TARGET_VARIABLES: [&str; 5] = [
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
];

pub const DEFAULT_LOCK_TIMEOUT: f64 = 60.0;
pub const DEFAULT_TX: TxScope = TxScope::Change;

pub type Env = Box<dyn Fn(&str) -> Option<String>>;

pub struct Project {
    pub config: Config,
    pub cwd: PathBuf,
    /// `--data-dir`/`JOBSCTL_DEV_DIR` when given.
    pub dev_dir: Option<PathBuf>,
    env: Env,
    /// Set when libpq's defaults were used: a failed connection then gets
    /// a hint about the dev cluster.
    pub(crate) used_defaults: Cell<bool>,
}

/// Where the connection settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Target { name: String, origin: String },
    Environment(Vec<&'static str>),
    DefaultTarget { name: String, origin: String },
    Dev { dir: PathBuf, explicit: bool },
    Defaults,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--database-url"),
            Source::Target { name, origin } => write!(f, "--target {name} ({origin})"),
            Source::Environment(vars) => write!(f, "environment ({})", vars.join(", ")),
            Source::DefaultTarget { name, origin } => {
                write!(f, "default target {name} ({origin})")
            }
            Source::Dev { dir, .. } => write!(f, "dev cluster in {}", dir.display()),
            Source::Defaults => f.write_str("libpq defaults (nothing configured)"),
        }
    }
}

impl Project {
    /// Read jobsctl.toml (`--config`, else in `workspace`, else in the
    /// current folder) with the process environment.
    pub fn load(global: &GlobalArgs, workspace: Option<&Path>) -> Result<Project, Error> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::Usage(format!("cannot tell the current folder: {e}")))?;
        let config = Config::load(global.config.as_deref(), workspace, &cwd)?;
        Ok(Project::new(
            config,
            cwd,
            None,
            Box::new(|name| std::env::var(name).ok()),
        ))
    }

    pub fn new(config: Config, cwd: PathBuf, dev_dir: Option<PathBuf>, env: Env) -> Project {
        Project {
            config,
            cwd,
            dev_dir,
            env,
            used_defaults: Cell::new(false),
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }

    /// The workspace folder: the flag (or `JOBSCTL_WORKSPACE`), else
    /// `[defaults] workspace`; `None` is the embedded workspace.
    pub fn workspace(&self, flag: Option<&Path>) -> Result<Option<PathBuf>, Error> {
        match flag {
            Some(dir) => Ok(Some(dir.to_path_buf())),
            None => Ok(self.config.workspace(&*self.env)?),
        }
    }

    pub fn lock_timeout(&self, flag: Option<f64>) -> f64 {
        flag.or(self.config.lock_timeout())
            .unwrap_or(DEFAULT_LOCK_TIMEOUT)
    }

    /// `--change-lock-timeout` (or `JOBSCTL_CHANGE_LOCK_TIMEOUT`), else
    /// `[defaults] change_lock_timeout`, else none; `--lock-retries` (or
    /// `JOBSCTL_LOCK_RETRIES`), else `[defaults] lock_retries`, else 5
    /// when there is a timeout, else 0.
    pub fn lock_policy(&self, args: &cli::ChangeLockArgs) -> Result<LockPolicy, Error> {
        let timeout = match &args.change_lock_timeout {
            Some(text) => Some(
                parse_duration(text)
                    .map_err(|e| Error::Usage(format!("--change-lock-timeout {e}")))?,
            ),
            None => self.config.change_lock_timeout(),
        };
        Ok(LockPolicy::new(
            timeout,
            args.lock_retries.or(self.config.lock_retries()),
        ))
    }

    /// `--tx` (or `JOBSCTL_TX`), else `[defaults] tx`, else `change`. The
    /// flag's clap type becomes the engine's here.
    pub fn tx(&self, flag: Option<cli::TxScope>) -> TxScope {
        flag.map(TxScope::from)
            .or(self.config.tx())
            .unwrap_or(DEFAULT_TX)
    }

    /// `--strict`, else `[defaults] strict`, else off.
    pub fn strict(&self, flag: bool) -> bool {
        flag || self.config.strict().unwrap_or(false)
    }

    /// The lint rules of the run: `[lint]`, `[packages.NAME] lint`, and the
    /// built-in allowances of the embedded packages.
    pub fn lint_config(&self) -> Result<crate::lint::RuleConfig, Error> {
        crate::lint::RuleConfig::new(
            self.config.lint(),
            self.config.package_lint(),
            crate::lint::embedded::allowances(),
        )
        .map_err(|e| {
            Error::Config(crate::config::ConfigError {
                path: self
                    .config
                    .path
                    .clone()
                    .unwrap_or_else(|| crate::config::FILE_NAME.into()),
                line: None,
                message: e.to_string(),
            })
        })
    }

    /// How drift in each package is treated: `error` for everything with
    /// --strict; else `[packages.NAME] drift`; else `warn` for installed and
    /// embedded modules and `error` for the workspace's own packages.
    pub fn drift_policies(&self, strict: bool) -> DriftPolicies {
        DriftPolicies {
            strict,
            configured: self
                .config
                .drift_policies()
                .map(|(name, policy)| (name.to_owned(), policy))
                .collect(),
        }
    }

    /// The dev cluster this project uses.
    pub fn dev_cluster(&self) -> Result<Cluster, Error> {
        let explicit = self
            .dev_dir
            .clone()
            .or_else(|| self.var("JOBSCTL_DEV_DIR").map(PathBuf::from));
        let configured = self.config.dev_data_dir(&*self.env)?;
        Ok(dev::locate(
            explicit.as_deref(),
            configured,
            self.config.dir(),
            &self.cwd,
        ))
    }

    pub fn dev_database(&self) -> Result<String, Error> {
        Ok(self.config.dev_database(&*self.env)?)
    }

    /// The connection settings, by the precedence in this module's docs.
    pub fn connection(
        &self,
        args: &ConnectionArgs,
        printer: &Printer,
    ) -> Result<(Settings, Source), Error> {
        let env = &*self.env;
        let resolved = self.resolve(args)?;
        let (text, source) = match resolved {
            Resolved::Text(text, source) => (text, source),
            Resolved::Dev(cluster, explicit) => {
                let running = cluster.require_running()?;
                let settings = running
                    .settings(&self.dev_database()?, env)
                    .map_err(crate::engine::Error::from)?;
                let source = Source::Dev {
                    dir: cluster.dir.clone(),
                    explicit,
                };
                if !explicit {
                    printer.note(&format!(
                        "using the dev cluster at {} (no connection configured; {})",
                        settings.describe(),
                        cluster.dir.display()
                    ));
                }
                tracing::info!(target = %settings.describe(), source = %source, "connection");
                return Ok((settings, source));
            }
        };
        let settings =
            Settings::resolve(text.as_deref(), env).map_err(crate::engine::Error::from)?;
        tracing::info!(target = %settings.describe(), source = %source, "connection");
        if source == Source::Defaults {
            self.used_defaults.set(true);
        }
        Ok((settings, source))
    }

    fn resolve(&self, args: &ConnectionArgs) -> Result<Resolved, Error> {
        if let Some(url) = args
            .database_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            return Ok(Resolved::Text(Some(url.to_owned()), Source::Flag));
        }
        if let Some(name) = &args.target {
            return self.target(name, false);
        }
        let set: Vec<&'static str> = TARGET_VARIABLES
            .into_iter()
            .filter(|v| self.var(v).is_some())
            .collect();
        if !set.is_empty() {
            return Ok(Resolved::Text(None, Source::Environment(set)));
        }
        if let Some(name) = self.config.default_target() {
            return self.target(name, true);
        }
        let cluster = self.dev_cluster()?;
        if cluster.running().is_some() {
            return Ok(Resolved::Dev(cluster, false));
        }
        tracing::debug!(dev_dir = %cluster.dir.display(), "no dev cluster running there");
        Ok(Resolved::Text(None, Source::Defaults))
    }

    fn target(&self, name: &str, default: bool) -> Result<Resolved, Error> {
        match self.config.target(name, &*self.env)? {
            TargetRef::Dev => Ok(Resolved::Dev(self.dev_cluster()?, true)),
            TargetRef::Named(target) => {
                let source = if default {
                    Source::DefaultTarget {
                        name: target.name,
                        origin: target.origin,
                    }
                } else {
                    Source::Target {
                        name: target.name,
                        origin: target.origin,
                    }
                };
                Ok(Resolved::Text(Some(target.conninfo), source))
            }
        }
    }

    /// `error` with a hint when it is a failed connection made with libpq's
    /// defaults because nothing was configured.
    pub fn hint(&self, error: Error) -> Error {
        let connect_failed = matches!(
            &error,
            Error::Engine(crate::engine::Error::Db(crate::db::DbError::Connect { .. }))
        );
        if connect_failed && self.used_defaults.get() {
            return Error::WithHint {
                error: Box::new(error),
                hint: "no database is configured (-d, --target, DATABASE_URL, PGHOST, ...) and no dev \
                       cluster is running: start one with `jobsctl dev start`, or point jobsctl at a server"
                    .into(),
            };
        }
        error
    }
}

enum Resolved {
    /// A connection string for `Settings::resolve` (`None`: the environment only).
    Text(Option<String>, Source),
    /// The dev cluster; `true` when asked for by name.
    Dev(Cluster, bool),
}

impl From<cli::TxScope> for TxScope {
    fn from(scope: cli::TxScope) -> TxScope {
        match scope {
            cli::TxScope::Change => TxScope::Change,
            cli::TxScope::Package => TxScope::Package,
            cli::TxScope::All => TxScope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ColorWhen;
    use crate::cli::Format;

    fn project(config: &str, vars: &[(&str, &str)]) -> (Project, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = if config.is_empty() {
            Config::none()
        } else {
            Config::parse(dir.path().join("jobsctl.toml"), config.to_owned()).unwrap()
        };
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let env: Env =
            Box::new(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
        (
            Project::new(config, dir.path().to_path_buf(), None, env),
            dir,
        )
    }

    fn args(url: Option<&str>, target: Option<&str>) -> ConnectionArgs {
        ConnectionArgs {
            database_url: url.map(str::to_owned),
            target: target.map(str::to_owned),
        }
    }

    fn resolve(p: &Project, a: &ConnectionArgs) -> (String, Source) {
        let printer = Printer::with_quiet(Format::Human, ColorWhen::Never, true);
        let (settings, source) = p.connection(a, &printer).unwrap();
        (settings.database().to_owned(), source)
    }

    const CONFIG: &str = "[defaults]\ntarget = \"cfg\"\n[targets.cfg]\ndbname = \"from_config\"\nhost = \"h\"\n[targets.other]\nurl = \"postgres://h/from_target\"\n";

    #[test]
    fn flag_beats_target_beats_environment_beats_default_target() {
        let (p, _d) = project(CONFIG, &[("DATABASE_URL", "postgres://h/from_env")]);
        assert_eq!(resolve(&p, &args(Some("from_flag"), None)).0, "from_flag");
        let (db, source) = resolve(&p, &args(None, Some("other")));
        assert_eq!(db, "from_target");
        assert!(matches!(source, Source::Target { .. }));
        let (db, source) = resolve(&p, &args(None, None));
        assert_eq!(db, "from_env");
        assert_eq!(source, Source::Environment(vec!["DATABASE_URL"]));

        let (p, _d) = project(CONFIG, &[("PGHOST", "elsewhere"), ("PGUSER", "u")]);
        assert_eq!(
            resolve(&p, &args(None, None)).1,
            Source::Environment(vec!["PGHOST"])
        );

        // PGUSER alone does not pick a server: the default target does.
        let (p, _d) = project(CONFIG, &[("PGUSER", "u")]);
        let (db, source) = resolve(&p, &args(None, None));
        assert_eq!(db, "from_config");
        assert!(matches!(source, Source::DefaultTarget { .. }), "{source:?}");
    }

    #[test]
    fn nothing_configured_and_no_dev_cluster_is_libpq_defaults() {
        let (p, _d) = project("", &[("PGUSER", "someone")]);
        let (db, source) = resolve(&p, &args(None, None));
        assert_eq!(source, Source::Defaults);
        assert_eq!(db, "someone");
        assert!(p.used_defaults.get());
    }

    #[test]
    fn the_dev_target_needs_a_running_cluster() {
        let (p, _d) = project("", &[]);
        let printer = Printer::with_quiet(Format::Human, ColorWhen::Never, true);
        let err = p
            .connection(&args(None, Some("dev")), &printer)
            .unwrap_err();
        assert!(err.to_string().contains("jobsctl dev start"), "{err}");
    }

    #[test]
    fn defaults_merge_flag_then_config_then_built_in() {
        let (p, _d) = project("[defaults]\nlock_timeout = 5\ntx = \"all\"\n", &[]);
        assert_eq!(p.lock_timeout(Some(1.0)), 1.0);
        assert_eq!(p.lock_timeout(None), 5.0);
        assert_eq!(p.tx(Some(cli::TxScope::Package)), TxScope::Package);
        assert_eq!(p.tx(None), TxScope::All);
        let (p, _d) = project("", &[]);
        assert_eq!(p.lock_timeout(None), DEFAULT_LOCK_TIMEOUT);
        assert_eq!(p.tx(None), TxScope::Change);
    }

    #[test]
    fn change_lock_policy_merges_flag_then_config_then_built_in() {
        use std::time::Duration;
        let flags = |timeout: Option<&str>, retries: Option<u32>| cli::ChangeLockArgs {
            change_lock_timeout: timeout.map(str::to_owned),
            lock_retries: retries,
        };
        let (p, _d) = project(
            "[defaults]\nchange_lock_timeout = \"2s\"\nlock_retries = 3\n",
            &[],
        );
        let policy = p.lock_policy(&flags(Some("250ms"), None)).unwrap();
        assert_eq!(policy.timeout, Some(Duration::from_millis(250)));
        assert_eq!(policy.retries, 3);
        let policy = p.lock_policy(&flags(None, Some(0))).unwrap();
        assert_eq!(policy.timeout, Some(Duration::from_secs(2)));
        assert_eq!(policy.retries, 0);
        assert!(p.lock_policy(&flags(Some("2"), None)).is_err());
        let (p, _d) = project("", &[]);
        let policy = p.lock_policy(&flags(None, None)).unwrap();
        assert!(!policy.is_active());
        let policy = p.lock_policy(&flags(Some("1s"), None)).unwrap();
        assert_eq!(policy.retries, crate::engine::lock_wait::DEFAULT_RETRIES);
    }
}
