//! `jobsctl.toml`, the optional project configuration: named connection
//! targets and defaults for flags.
//!
//! ```toml
//! [defaults]
//! workspace = "db"          # relative to this file
//! target = "staging"        # a target below, or `dev` (the dev cluster)
//! lock_timeout = 30         # seconds
//! tx = "package"            # change | package | all
//! strict = true             # warnings are errors (as --strict)
//!
//! [packages.pgpm-verify]
//! drift = "error"           # error | warn | replace: drift in this package (docs/pgpm-compat.md)
//! lint = { ignore = ["renaming-column"] }   # this package's lint rules (docs/lint.md)
//!
//! [lint]                    # lint rules of every package (docs/lint.md)
//! ignore = ["ban-drop-column"]
//! enable = ["prefer-timestamptz"]
//!
//! [dev]
//! data_dir = ".jobsctl/dev" # relative to this file
//! database = "jobs"
//!
//! [targets.staging]
//! url = "postgres://app@db.example.com/app"
//! password = "${APP_PASSWORD}"
//! sslmode = "verify-full"
//!
//! [targets.local]
//! host = "/var/run/postgresql"
//! port = 5432
//! dbname = "app"
//!
//! [worker]                  # jobsctl worker (docs/worker.md)
//! concurrency = 8
//! poll_interval = 1         # seconds
//! shutdown_timeout = 25     # seconds
//! schedule = true           # fire due scheduled jobs
//!
//! [worker.tasks.send_email]
//! exec = ["./bin/send-email", "--quiet"]
//! timeout = 30              # seconds
//! max_concurrency = 2
//!
//! [worker.tasks.thumbnail]
//! http = "https://functions.example.com/thumbnail"
//! secret = "${WEBHOOK_SECRET}"
//! ```
//!
//! Found at `--config FILE` (or `JOBSCTL_CONFIG`), else as `jobsctl.toml`
//! in the workspace folder (`--workspace`/`JOBSCTL_WORKSPACE`), else in the
//! current folder; having none is fine. Every string value may use
//! `${NAME}` for the environment variable `NAME` (`$$` is a `$`), expanded
//! when the value is used, so that secrets stay in the environment and an
//! unused target's missing variable does not matter; a variable that is not
//! set is an error naming it and the line. An unknown key, a value of the
//! wrong type or a malformed file is an error naming the line.

use crate::db::conninfo::{self, Key};
use crate::engine::{DriftPolicy, TxScope};
use crate::lint::LintSettings;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

mod worker;
use worker::WorkerSection;
pub use worker::WorkerSettings;

pub const FILE_NAME: &str = "jobsctl.toml";
/// The target name that means the dev cluster.
pub const DEV_TARGET: &str = "dev";

/// The libpq settings a target may give (besides `url`): the connection
/// options `db` knows, with their libpq names.
pub const TARGET_KEYS: &[&str] = &conninfo::NAMES;

/// A problem with the configuration file, at a line when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    dev: Dev,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
    #[serde(default)]
    packages: BTreeMap<String, PackageSettings>,
    #[serde(default)]
    worker: WorkerSection,
    #[serde(default)]
    lint: LintSettings,
}

/// `[packages.NAME]`: settings of one package.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageSettings {
    drift: Option<DriftPolicy>,
    lint: Option<LintSettings>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    workspace: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    lock_timeout: Option<Spanned<f64>>,
    change_lock_timeout: Option<Spanned<String>>,
    lock_retries: Option<u32>,
    tx: Option<TxScope>,
    strict: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Dev {
    data_dir: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
}

/// The project configuration (empty when there is no file).
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    text: String,
    file: File,
}

/// A target turned into a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    /// A `postgres://` URL or a `key='value'` conninfo string (may hold a
    /// password: never print it).
    pub conninfo: String,
    /// `jobsctl.toml:LINE`, for messages.
    pub origin: String,
}

/// Where a connection target comes from: the dev cluster, or a `[targets.X]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef {
    Dev,
    Named(Target),
}

pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// No file: every default is built in.
    pub fn none() -> Config {
        Config::default()
    }

    /// Find and read the configuration: `explicit` (which must exist), else
    /// `jobsctl.toml` in `workspace`, else in `cwd`; none is fine.
    pub fn load(
        explicit: Option<&Path>,
        workspace: Option<&Path>,
        cwd: &Path,
    ) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(path) => {
                let path = cwd.join(path);
                if !path.is_file() {
                    return Err(ConfigError {
                        message: if path.exists() {
                            "not a file".into()
                        } else {
                            "no such file".into()
                        },
                        path,
                        line: None,
                    });
                }
                path
            }
            None => {
                let candidates = workspace
                    .map(|w| cwd.join(w).join(FILE_NAME))
                    .into_iter()
                    .chain([cwd.join(FILE_NAME)]);
                match candidates.into_iter().find(|p| p.is_file()) {
                    Some(path) => path,
                    None => {
                        tracing::debug!("no {FILE_NAME} in the workspace or current folder");
                        return Ok(Config::none());
                    }
                }
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            path: path.clone(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        let config = Config::parse(path, text)?;
        tracing::info!(path = %config.path.as_ref().expect("read from a file").display(), "configuration file");
        Ok(config)
    }

    /// Parse and check a configuration file's text.
    pub fn parse(path: PathBuf, text: String) -> Result<Config, ConfigError> {
        let file: File = match toml::from_str(&text) {
            Ok(file) => file,
            Err(e) => {
                return Err(ConfigError {
                    line: e.span().map(|s| line_of(&text, s.start)),
                    message: e.message().trim().to_owned(),
                    path,
                });
            }
        };
        let config = Config {
            path: Some(path),
            text,
            file,
        };
        config.check()?;
        Ok(config)
    }

    fn error(&self, span: Option<std::ops::Range<usize>>, message: String) -> ConfigError {
        ConfigError {
            path: self.path.clone().unwrap_or_else(|| FILE_NAME.into()),
            line: span.map(|s| line_of(&self.text, s.start)),
            message,
        }
    }

    /// What serde cannot check: target keys and value types, the default
    /// target's existence, the lock timeout's range.
    fn check(&self) -> Result<(), ConfigError> {
        for (name, keys) in &self.file.targets {
            let first = keys.values().map(|v| v.span()).min_by_key(|s| s.start);
            if name == DEV_TARGET {
                return Err(self.error(
                    first,
                    format!("[targets.{DEV_TARGET}]: `{DEV_TARGET}` is the built-in target of the dev cluster; name this target otherwise"),
                ));
            }
            if keys.is_empty() {
                return Err(self.error(
                    None,
                    format!("[targets.{name}] is empty: give a `url` or libpq settings (host, port, dbname, ...)"),
                ));
            }
            for (key, value) in keys {
                if key != "url" && !TARGET_KEYS.contains(&key.as_str()) {
                    return Err(self.error(
                        Some(value.span()),
                        format!(
                            "targets.{name}: unknown key `{key}`, expected `url` or one of {}",
                            TARGET_KEYS.join(", ")
                        ),
                    ));
                }
                match value.get_ref() {
                    toml::Value::String(_) => {}
                    toml::Value::Integer(_) if key != "url" => {}
                    _ => {
                        return Err(self.error(
                            Some(value.span()),
                            format!(
                                "targets.{name}.{key}: expected a string{}",
                                if key == "url" { "" } else { " or an integer" }
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(target) = &self.file.defaults.target {
            let name = target.get_ref();
            if name != DEV_TARGET && !self.file.targets.contains_key(name) {
                return Err(self.error(
                    Some(target.span()),
                    format!(
                        "defaults.target: no target `{name}` (known: {})",
                        self.target_names().join(", ")
                    ),
                ));
            }
        }
        if let Some(timeout) = &self.file.defaults.lock_timeout
            && !(timeout.get_ref().is_finite() && *timeout.get_ref() >= 0.0)
        {
            return Err(self.error(
                Some(timeout.span()),
                "defaults.lock_timeout: expected a number of seconds, 0 or more".into(),
            ));
        }
        if let Some(timeout) = &self.file.defaults.change_lock_timeout
            && let Err(message) = crate::engine::lock_wait::parse_duration(timeout.get_ref())
        {
            return Err(self.error(
                Some(timeout.span()),
                format!("defaults.change_lock_timeout: {message}"),
            ));
        }
        Ok(())
    }

    /// The folder of the file (relative paths in it are relative to it).
    pub fn dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    fn relative_path(
        &self,
        value: &Spanned<String>,
        what: &str,
        env: Env,
    ) -> Result<PathBuf, ConfigError> {
        let text = self.expand(value, what, env)?;
        Ok(match self.dir() {
            Some(dir) => dir.join(text),
            None => PathBuf::from(text),
        })
    }

    /// `[defaults] workspace`, relative to the file's folder.
    pub fn workspace(&self, env: Env) -> Result<Option<PathBuf>, ConfigError> {
        self.file
            .defaults
            .workspace
            .as_ref()
            .map(|w| self.relative_path(w, "defaults.workspace", env))
            .transpose()
    }

    pub fn lock_timeout(&self) -> Option<f64> {
        self.file
            .defaults
            .lock_timeout
            .as_ref()
            .map(|t| *t.get_ref())
    }

    /// `[defaults] change_lock_timeout` (checked when the file was read).
    pub fn change_lock_timeout(&self) -> Option<std::time::Duration> {
        self.file
            .defaults
            .change_lock_timeout
            .as_ref()
            .and_then(|t| crate::engine::lock_wait::parse_duration(t.get_ref()).ok())
    }

    /// `[defaults] lock_retries`.
    pub fn lock_retries(&self) -> Option<u32> {
        self.file.defaults.lock_retries
    }

    pub fn tx(&self) -> Option<TxScope> {
        self.file.defaults.tx
    }

    /// `[defaults] strict`.
    pub fn strict(&self) -> Option<bool> {
        self.file.defaults.strict
    }

    /// `[packages.NAME] drift` of every package that sets it.
    pub fn drift_policies(&self) -> impl Iterator<Item = (&str, DriftPolicy)> {
        self.file
            .packages
            .iter()
            .filter_map(|(name, settings)| settings.drift.map(|d| (name.as_str(), d)))
    }

    /// `[lint]`: the lint settings of every package.
    pub fn lint(&self) -> &LintSettings {
        &self.file.lint
    }

    /// `[packages.NAME] lint` of every package that sets it.
    pub fn package_lint(&self) -> impl Iterator<Item = (&str, &LintSettings)> {
        self.file
            .packages
            .iter()
            .filter_map(|(name, settings)| settings.lint.as_ref().map(|l| (name.as_str(), l)))
    }

    /// `[defaults] target`.
    pub fn default_target(&self) -> Option<&str> {
        self.file
            .defaults
            .target
            .as_ref()
            .map(|t| t.get_ref().as_str())
    }

    /// `[dev] data_dir`, relative to the file's folder.
    pub fn dev_data_dir(&self, env: Env) -> Result<Option<PathBuf>, ConfigError> {
        self.file
            .dev
            .data_dir
            .as_ref()
            .map(|d| self.relative_path(d, "dev.data_dir", env))
            .transpose()
    }

    /// `[dev] database`, else `jobs`.
    pub fn dev_database(&self, env: Env) -> Result<String, ConfigError> {
        match &self.file.dev.database {
            Some(name) => self.expand(name, "dev.database", env),
            None => Ok(crate::dev::DEFAULT_DATABASE.to_owned()),
        }
    }

    /// Every target's name, `dev` included.
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.file.targets.keys().cloned().collect();
        names.push(DEV_TARGET.to_owned());
        names
    }

    /// The target called `name`, its variables expanded.
    pub fn target(&self, name: &str, env: Env) -> Result<TargetRef, ConfigError> {
        if name == DEV_TARGET {
            return Ok(TargetRef::Dev);
        }
        let Some(keys) = self.file.targets.get(name) else {
            let message = format!(
                "--target {name}: no such target (known: {})",
                self.target_names().join(", ")
            );
            return Err(match &self.path {
                Some(path) => ConfigError {
                    path: path.clone(),
                    line: None,
                    message,
                },
                None => ConfigError {
                    path: FILE_NAME.into(),
                    line: None,
                    message: format!(
                        "{message}; there is no {FILE_NAME} in the workspace or current folder (or give --config FILE)"
                    ),
                },
            });
        };
        let line = keys
            .values()
            .map(|v| line_of(&self.text, v.span().start))
            .min()
            .unwrap_or(1);
        let mut url = None;
        let mut settings: Vec<(Key, String)> = Vec::new();
        for (key, value) in keys {
            let what = format!("targets.{name}.{key}");
            let text = match value.get_ref() {
                toml::Value::String(s) => {
                    self.expand(&Spanned::new(value.span(), s.clone()), &what, env)?
                }
                toml::Value::Integer(n) => n.to_string(),
                _ => unreachable!("checked when the file was read"),
            };
            if key == "url" {
                url = Some(text);
            } else {
                let Ok(key) = Key::from_name(key) else {
                    unreachable!("checked when the file was read")
                };
                settings.push((key, text));
            }
        }
        let settings: Vec<(Key, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let conninfo = match url {
            // Settings beside a URL become its query parameters.
            Some(url) => conninfo::render_url_query(&url, &settings),
            None => conninfo::render(&settings),
        };
        let file = self.path.as_ref().and_then(|p| p.file_name()).map_or_else(
            || FILE_NAME.to_owned(),
            |f| f.to_string_lossy().into_owned(),
        );
        Ok(TargetRef::Named(Target {
            name: name.to_owned(),
            conninfo,
            origin: format!("{file}:{line}"),
        }))
    }

    /// `value` with `${NAME}` replaced by the environment's `NAME`.
    fn expand(&self, value: &Spanned<String>, what: &str, env: Env) -> Result<String, ConfigError> {
        expand(value.get_ref(), env)
            .map_err(|message| self.error(Some(value.span()), format!("{what}: {message}")))
    }
}

/// Replace `${NAME}` by the variable's value and `$$` by `$`; any other
/// `$` stays. An unset variable or a malformed `${` is an error.
pub fn expand(text: &str, env: Env) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(after) = after.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("`${` without its closing `}`".into());
            };
            let name = &inner[..end];
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` is not a variable name (letters, digits and `_`; write `$$` for a `$`)"
                ));
            }
            match env(name) {
                Some(value) => out.push_str(&value),
                None => return Err(format!("environment variable {name} is not set")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests;
