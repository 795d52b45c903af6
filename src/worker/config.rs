//! What a worker runs: its handlers per task identifier and its runtime
//! options, merged from `[worker]` / `[worker.tasks.<task>]` of jobsctl.toml
//! and the command line (flags win; a `--task` replaces the file's task of
//! the same name).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// How a task's jobs are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// Run a program (argv, no shell): payload on stdin, metadata in the
    /// environment; exit 0 completes.
    Exec { argv: Vec<String> },
    /// POST the payload to a URL; 2xx completes.
    Http { url: String },
    /// POST the payload as `@constructive-io/knative-job-worker` does; a 2xx
    /// answer only means "accepted": the function reports by calling the
    /// worker's callback URL.
    Callback { url: String },
    /// Complete at once (for benchmarks and smoke tests).
    Noop,
}

impl Handler {
    pub fn kind(&self) -> &'static str {
        match self {
            Handler::Exec { .. } => "exec",
            Handler::Http { .. } => "http",
            Handler::Callback { .. } => "callback",
            Handler::Noop => "noop",
        }
    }
}

/// One task identifier's handler and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    pub handler: Handler,
    /// Fail the job (and kill the handler) after this long.
    pub timeout: Option<Duration>,
    /// At most this many jobs of the task at once (besides `--concurrency`).
    pub max_concurrency: Option<usize>,
    /// HMAC-SHA256 secret for the `webhook-signature` header (http, callback).
    pub secret: Option<String>,
    /// Extra environment variables for exec handlers.
    pub env: BTreeMap<String, String>,
}

impl Task {
    pub fn new(name: &str, handler: Handler) -> Task {
        Task {
            name: name.to_owned(),
            handler,
            timeout: None,
            max_concurrency: None,
            secret: None,
            env: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the runtime needs besides the connection settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub worker_id: String,
    pub tasks: Vec<Task>,
    /// Jobs at once, over all tasks.
    pub concurrency: usize,
    /// Claim again this often when no notification came.
    pub poll_interval: Duration,
    /// After SIGTERM/SIGINT, wait this long for running jobs.
    pub shutdown_timeout: Duration,
    /// Fire due scheduled jobs (`run_due_scheduled_jobs`).
    pub schedule: bool,
    /// Stop when nothing is runnable and nothing runs (tests, benchmarks).
    pub once: bool,
    pub metrics_addr: Option<SocketAddr>,
    /// Where the callback server listens, and the URL handed to functions.
    pub callback_addr: Option<SocketAddr>,
    pub callback_url: Option<String>,
    /// At most this many jobs per claim.
    pub batch_size: usize,
    /// Report outcomes at most this late (they are sent in batches).
    pub report_delay: Duration,
}

impl Options {
    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }
}

pub const DEFAULT_CONCURRENCY: usize = 4;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Parse `NAME=exec:PROGRAM ARGS...`, `NAME=http:URL`,
/// `NAME=callback:URL` or `NAME=noop`. Exec arguments are split like a
/// shell splits words (quotes and backslashes), without running a shell.
pub fn parse_task_flag(text: &str) -> Result<Task, String> {
    let Some((name, spec)) = text.split_once('=') else {
        return Err(format!(
            "--task {text}: expected NAME=exec:PROGRAM ARGS..., NAME=http:URL, NAME=callback:URL or NAME=noop"
        ));
    };
    let name = name.trim();
    check_task_name(name).map_err(|e| format!("--task {text}: {e}"))?;
    let handler = if let Some(command) = spec.strip_prefix("exec:") {
        let argv = split_words(command).map_err(|e| format!("--task {text}: {e}"))?;
        if argv.is_empty() {
            return Err(format!("--task {text}: exec: needs a program"));
        }
        Handler::Exec { argv }
    } else if let Some(url) = spec.strip_prefix("http:") {
        check_url(url).map_err(|e| format!("--task {text}: {e}"))?;
        Handler::Http {
            url: url.to_owned(),
        }
    } else if let Some(url) = spec.strip_prefix("callback:") {
        check_url(url).map_err(|e| format!("--task {text}: {e}"))?;
        Handler::Callback {
            url: url.to_owned(),
        }
    } else if spec == "noop" {
        Handler::Noop
    } else {
        return Err(format!(
            "--task {text}: unknown handler; expected exec:PROGRAM ARGS..., http:URL, callback:URL or noop"
        ));
    };
    Ok(Task::new(name, handler))
}

pub fn check_task_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the task name is empty".into());
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("the task name has control characters".into());
    }
    Ok(())
}

/// An `http://` or `https://` URL with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    match url.parse::<hyper::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {
            Ok(())
        }
        _ => Err(format!(
            "{url:?} is not an http:// or https:// URL with a host"
        )),
    }
}

/// Split a command line into words as a POSIX shell would for plain words,
/// '...' and "..." (with \ escapes inside double quotes and outside quotes);
/// nothing is expanded.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated '".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated \"".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated \"".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a trailing \\".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A parsed number of seconds (`--poll-interval 0.5`).
pub fn seconds(flag: &str, value: f64, allow_zero: bool) -> Result<Duration, String> {
    match Duration::try_from_secs_f64(value) {
        Ok(d) if allow_zero || !d.is_zero() => Ok(d),
        _ => Err(format!(
            "{flag} {value}: expected a {} number of seconds",
            if allow_zero {
                "non-negative"
            } else {
                "positive"
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell_without_expansion() {
        assert_eq!(
            split_words(r#"prog -a 'b c' "d \"e\" $X" f\ g"#).unwrap(),
            ["prog", "-a", "b c", "d \"e\" $X", "f g"]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'open").is_err());
    }

    #[test]
    fn task_flags() {
        let t = parse_task_flag("mail=exec:/bin/send --to 'a b'").unwrap();
        assert_eq!(t.name, "mail");
        assert_eq!(
            t.handler,
            Handler::Exec {
                argv: vec!["/bin/send".into(), "--to".into(), "a b".into()]
            }
        );
        let t = parse_task_flag("hook=http:https://example.com/x?y=1").unwrap();
        assert_eq!(t.handler.kind(), "http");
        assert_eq!(parse_task_flag("n=noop").unwrap().handler, Handler::Noop);
        assert!(parse_task_flag("x=http:ftp://a").is_err());
        assert!(parse_task_flag("x=exec:").is_err());
        assert!(parse_task_flag("=noop").is_err());
        assert!(parse_task_flag("x").is_err());
        assert!(parse_task_flag("x=shell:ls").is_err());
    }
}
