//! `[worker]` and `[worker.tasks.NAME]` of jobsctl.toml: read with the rest
//! of the file, checked and expanded only when `jobsctl worker` asks.

use super::{Config, ConfigError, Env};
use std::collections::BTreeMap;
use toml::Spanned;

/// `[worker]`: defaults of `jobsctl worker`'s flags.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkerSection {
    worker_id: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    poll_interval: Option<Spanned<f64>>,
    shutdown_timeout: Option<Spanned<f64>>,
    schedule: Option<bool>,
    metrics_addr: Option<Spanned<String>>,
    callback_addr: Option<Spanned<String>>,
    callback_url: Option<Spanned<String>>,
    #[serde(default)]
    tasks: BTreeMap<String, Spanned<WorkerTaskSection>>,
}

/// `[worker.tasks.NAME]`: one task's handler (exactly one of `exec`,
/// `http`, `callback`, `noop`) and limits.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkerTaskSection {
    exec: Option<Spanned<Vec<String>>>,
    http: Option<Spanned<String>>,
    callback: Option<Spanned<String>>,
    noop: Option<Spanned<bool>>,
    timeout: Option<Spanned<f64>>,
    max_concurrency: Option<Spanned<i64>>,
    secret: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, Spanned<String>>,
}

/// `[worker]` of the file, its variables expanded and values checked.
#[derive(Debug, Default, Clone)]
pub struct WorkerSettings {
    pub worker_id: Option<String>,
    pub concurrency: Option<usize>,
    pub poll_interval: Option<std::time::Duration>,
    pub shutdown_timeout: Option<std::time::Duration>,
    pub schedule: Option<bool>,
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub callback_addr: Option<std::net::SocketAddr>,
    pub callback_url: Option<String>,
    pub tasks: Vec<crate::worker::config::Task>,
}

impl Config {
    /// `[worker]` and its `[worker.tasks.NAME]` tables. Checked here rather
    /// than when the file is read, so that only `jobsctl worker` cares
    /// about them (and about the variables they use).
    pub fn worker(&self, env: Env) -> Result<WorkerSettings, ConfigError> {
        use crate::worker::config::{Handler, Task, check_task_name, check_url};
        let w = &self.file.worker;
        let seconds = |value: &Spanned<f64>, what: &str, allow_zero: bool| {
            let v = *value.get_ref();
            std::time::Duration::try_from_secs_f64(v)
                .ok()
                .filter(|d| allow_zero || !d.is_zero())
                .ok_or_else(|| {
                    self.error(
                        Some(value.span()),
                        format!(
                            "{what}: expected a {} number of seconds, got {v}",
                            if allow_zero {
                                "non-negative"
                            } else {
                                "positive"
                            }
                        ),
                    )
                })
        };
        let count = |value: &Spanned<i64>, what: &str| {
            usize::try_from(*value.get_ref())
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    self.error(
                        Some(value.span()),
                        format!("{what}: expected a whole number, at least 1"),
                    )
                })
        };
        let addr = |value: &Spanned<String>, what: &str| {
            let text = self.expand(value, what, env)?;
            text.parse::<std::net::SocketAddr>().map_err(|_| {
                self.error(
                    Some(value.span()),
                    format!("{what}: expected HOST:PORT with an IP address, e.g. 127.0.0.1:9187, got {text:?}"),
                )
            })
        };
        let mut settings = WorkerSettings {
            worker_id: w
                .worker_id
                .as_ref()
                .map(|v| self.expand(v, "worker.worker_id", env))
                .transpose()?,
            concurrency: w
                .concurrency
                .as_ref()
                .map(|v| count(v, "worker.concurrency"))
                .transpose()?,
            poll_interval: w
                .poll_interval
                .as_ref()
                .map(|v| seconds(v, "worker.poll_interval", false))
                .transpose()?,
            shutdown_timeout: w
                .shutdown_timeout
                .as_ref()
                .map(|v| seconds(v, "worker.shutdown_timeout", true))
                .transpose()?,
            schedule: w.schedule,
            metrics_addr: w
                .metrics_addr
                .as_ref()
                .map(|v| addr(v, "worker.metrics_addr"))
                .transpose()?,
            callback_addr: w
                .callback_addr
                .as_ref()
                .map(|v| addr(v, "worker.callback_addr"))
                .transpose()?,
            callback_url: None,
            tasks: Vec::new(),
        };
        if let Some(url) = &w.callback_url {
            let text = self.expand(url, "worker.callback_url", env)?;
            check_url(&text)
                .map_err(|e| self.error(Some(url.span()), format!("worker.callback_url: {e}")))?;
            settings.callback_url = Some(text);
        }
        for (name, section) in &w.tasks {
            let what = format!("worker.tasks.{name}");
            let span = section.span();
            let section = section.get_ref();
            check_task_name(name)
                .map_err(|e| self.error(Some(span.clone()), format!("{what}: {e}")))?;
            let mut handlers = Vec::new();
            if let Some(argv) = &section.exec {
                let argv = argv
                    .get_ref()
                    .iter()
                    .map(|a| {
                        self.expand(
                            &Spanned::new(argv.span(), a.clone()),
                            &format!("{what}.exec"),
                            env,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if argv.is_empty() {
                    return Err(self.error(
                        Some(section.exec.as_ref().expect("given").span()),
                        format!("{what}.exec: give the program and its arguments, e.g. [\"./send-email\", \"--quiet\"]"),
                    ));
                }
                handlers.push(Handler::Exec { argv });
            }
            for (value, key) in [(&section.http, "http"), (&section.callback, "callback")] {
                if let Some(value) = value {
                    let url = self.expand(value, &format!("{what}.{key}"), env)?;
                    check_url(&url).map_err(|e| {
                        self.error(Some(value.span()), format!("{what}.{key}: {e}"))
                    })?;
                    handlers.push(if key == "http" {
                        Handler::Http { url }
                    } else {
                        Handler::Callback { url }
                    });
                }
            }
            if section.noop.as_ref().is_some_and(|n| *n.get_ref()) {
                handlers.push(Handler::Noop);
            }
            let handler = match handlers.len() {
                1 => handlers.pop().expect("one"),
                0 => {
                    return Err(self.error(
                        Some(span),
                        format!("{what}: give a handler: exec = [...], http = \"URL\", callback = \"URL\" or noop = true"),
                    ));
                }
                _ => {
                    return Err(self.error(
                        Some(span),
                        format!("{what}: give only one of exec, http, callback and noop"),
                    ));
                }
            };
            let mut task = Task::new(name, handler);
            task.timeout = section
                .timeout
                .as_ref()
                .map(|v| seconds(v, &format!("{what}.timeout"), false))
                .transpose()?;
            task.max_concurrency = section
                .max_concurrency
                .as_ref()
                .map(|v| count(v, &format!("{what}.max_concurrency")))
                .transpose()?;
            task.secret = section
                .secret
                .as_ref()
                .map(|v| self.expand(v, &format!("{what}.secret"), env))
                .transpose()?;
            for (key, value) in &section.env {
                task.env.insert(
                    key.clone(),
                    self.expand(value, &format!("{what}.env.{key}"), env)?,
                );
            }
            settings.tasks.push(task);
        }
        Ok(settings)
    }
}
