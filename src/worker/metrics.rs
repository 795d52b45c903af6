//! Prometheus text exposition at `--metrics-addr` (any path): jobs
//! completed and failed per task, job duration histogram per task, running
//! jobs per task, and queue depth per task (runnable jobs waiting, sampled
//! from the database every few seconds); with pgpm-jobs `@0.6.0` also the
//! counts of `app_jobs.job_stats()` for the worker's tasks (jobs per task,
//! queue and state, oldest ready age, longest running), sampled alike.
//! Written by hand: a handful of series does not need a metrics library.

use super::serve::{self, Handle};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Upper bounds (seconds) of the duration histogram's buckets.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// How often queue depth is sampled.
pub const DEPTH_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Default)]
struct TaskStats {
    completed: u64,
    failed: u64,
    running: i64,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One row of `app_jobs.job_stats()`: a task in a queue ("" = none).
#[derive(Debug, Clone, PartialEq)]
pub struct StateCounts {
    pub task: String,
    pub queue: String,
    /// In the order of [`STATES`].
    pub counts: [i64; 6],
    pub oldest_ready_age: Option<f64>,
    pub longest_running: Option<f64>,
}

/// The states of `app_jobs.job_stats()`, in its column order.
pub const STATES: [&str; 6] = crate::queue::STATES;

#[derive(Default)]
pub struct Metrics {
    tasks: Mutex<BTreeMap<String, TaskStats>>,
    depth: Mutex<Option<BTreeMap<String, i64>>>,
    states: Mutex<Option<Vec<StateCounts>>>,
}

impl Metrics {
    pub fn new<'a>(tasks: impl Iterator<Item = &'a str>) -> Metrics {
        let metrics = Metrics::default();
        {
            let mut map = metrics.tasks.lock().expect("not poisoned");
            for task in tasks {
                map.entry(task.to_owned()).or_default();
            }
        }
        metrics
    }

    pub fn started(&self, task: &str) {
        let mut map = self.tasks.lock().expect("not poisoned");
        map.entry(task.to_owned()).or_default().running += 1;
    }

    /// A job ended: `ok` = completed, `Some(false)` failed, `None` stopped.
    pub fn finished(&self, task: &str, duration: Duration, ok: Option<bool>) {
        let mut map = self.tasks.lock().expect("not poisoned");
        let stats = map.entry(task.to_owned()).or_default();
        stats.running -= 1;
        let Some(ok) = ok else { return };
        if ok {
            stats.completed += 1;
        } else {
            stats.failed += 1;
        }
        let seconds = duration.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.count += 1;
        stats.sum += seconds;
    }

    pub fn set_depth(&self, depth: BTreeMap<String, i64>) {
        *self.depth.lock().expect("not poisoned") = Some(depth);
    }

    pub fn set_states(&self, states: Vec<StateCounts>) {
        *self.states.lock().expect("not poisoned") = Some(states);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let map = self.tasks.lock().expect("not poisoned");
        let mut out = String::new();
        let label = |task: &str| {
            task.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let counter =
            |out: &mut String, name: &str, help: &str, get: &dyn Fn(&TaskStats) -> u64| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                for (task, stats) in map.iter() {
                    let _ = writeln!(out, "{name}{{task=\"{}\"}} {}", label(task), get(stats));
                }
            };
        counter(
            &mut out,
            "jobsctl_worker_jobs_completed_total",
            "Jobs completed by this worker.",
            &|s| s.completed,
        );
        counter(
            &mut out,
            "jobsctl_worker_jobs_failed_total",
            "Jobs failed by this worker (each failed attempt).",
            &|s| s.failed,
        );
        let name = "jobsctl_worker_job_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from start to outcome of each job.\n# TYPE {name} histogram"
        );
        for (task, stats) in map.iter() {
            let task = label(task);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{task=\"{task}\",le=\"{bound}\"}} {}",
                    stats.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{task=\"{task}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(out, "{name}_sum{{task=\"{task}\"}} {}", stats.sum);
            let _ = writeln!(out, "{name}_count{{task=\"{task}\"}} {}", stats.count);
        }
        let name = "jobsctl_worker_jobs_running";
        let _ = writeln!(
            out,
            "# HELP {name} Jobs this worker is running.\n# TYPE {name} gauge"
        );
        for (task, stats) in map.iter() {
            let _ = writeln!(out, "{name}{{task=\"{}\"}} {}", label(task), stats.running);
        }
        if let Some(depth) = self.depth.lock().expect("not poisoned").as_ref() {
            let name = "jobsctl_worker_queue_depth";
            let _ = writeln!(
                out,
                "# HELP {name} Runnable jobs waiting in app_jobs.jobs, per task this worker handles (sampled).\n# TYPE {name} gauge"
            );
            for task in map.keys() {
                let _ = writeln!(
                    out,
                    "{name}{{task=\"{}\"}} {}",
                    label(task),
                    depth.get(task).copied().unwrap_or(0)
                );
            }
        }
        if let Some(states) = self.states.lock().expect("not poisoned").as_ref() {
            let name = "jobsctl_jobs";
            let _ = writeln!(
                out,
                "# HELP {name} Jobs in app_jobs.jobs per task, queue (\"\" = none) and state, as app_jobs.job_stats() counts them, for the tasks this worker handles (sampled).\n# TYPE {name} gauge"
            );
            for row in states {
                for (state, n) in STATES.iter().zip(row.counts) {
                    let _ = writeln!(
                        out,
                        "{name}{{task=\"{}\",queue=\"{}\",state=\"{state}\"}} {n}",
                        label(&row.task),
                        label(&row.queue)
                    );
                }
            }
            for (name, help, get) in [
                (
                    "jobsctl_jobs_oldest_ready_age_seconds",
                    "How long the longest-waiting ready job has been due, per task and queue (sampled).",
                    (|r: &StateCounts| r.oldest_ready_age) as fn(&StateCounts) -> Option<f64>,
                ),
                (
                    "jobsctl_jobs_longest_running_seconds",
                    "How long the oldest lock of a running job has been held, per task and queue (sampled).",
                    |r: &StateCounts| r.longest_running,
                ),
            ] {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
                for row in states {
                    let _ = writeln!(
                        out,
                        "{name}{{task=\"{}\",queue=\"{}\"}} {}",
                        label(&row.task),
                        label(&row.queue),
                        get(row).unwrap_or(0.0)
                    );
                }
            }
        }
        out
    }
}

/// The metrics endpoint.
pub fn handler(metrics: Weak<Metrics>) -> Handle {
    Arc::new(move |_request| {
        let metrics = metrics.clone();
        Box::pin(async move {
            match metrics.upgrade() {
                Some(m) => {
                    serve::reply(200, "text/plain; version=0.0.4; charset=utf-8", m.render())
                }
                None => serve::reply(503, "text/plain", "stopping\n"),
            }
        })
    })
}

/// Runnable jobs per task (only this worker's tasks).
pub async fn sample_depth(
    client: &tokio_postgres::Client,
    tasks: &[String],
) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT task_identifier, count(*) FROM app_jobs.jobs \
              WHERE task_identifier = ANY($1) AND locked_at IS NULL \
                AND attempts < max_attempts AND run_at <= now() GROUP BY 1",
            &[&tasks],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// `app_jobs.job_stats()` for this worker's tasks. `Ok(None)` when the
/// database's pgpm-jobs is older than `@0.6.0` (no job_stats: undefined
/// function), so that the worker keeps serving its other metrics.
pub async fn sample_states(
    client: &tokio_postgres::Client,
    tasks: &[String],
) -> Result<Option<Vec<StateCounts>>, tokio_postgres::Error> {
    let result = client
        .query(
            "SELECT task_identifier, coalesce(queue_name, ''), ready, scheduled, running, retrying, \
                    failed, paused, extract(epoch FROM oldest_ready_age)::float8, \
                    extract(epoch FROM longest_running)::float8 \
               FROM app_jobs.job_stats() WHERE task_identifier = ANY($1)",
            &[&tasks],
        )
        .await;
    let rows = match result {
        Ok(rows) => rows,
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_FUNCTION) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(Some(
        rows.iter()
            .map(|r| StateCounts {
                task: r.get(0),
                queue: r.get(1),
                counts: [r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)],
                oldest_ready_age: r.get(8),
                longest_running: r.get(9),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::new(["a\"b", "c"].into_iter());
        m.started("c");
        m.finished("c", Duration::from_millis(30), Some(true));
        m.started("c");
        let text = m.render();
        assert!(
            text.contains("jobsctl_worker_jobs_completed_total{task=\"c\"} 1"),
            "{text}"
        );
        assert!(text.contains("task=\"a\\\"b\""), "{text}");
        assert!(
            text.contains("jobsctl_worker_job_duration_seconds_bucket{task=\"c\",le=\"0.025\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("jobsctl_worker_job_duration_seconds_bucket{task=\"c\",le=\"0.05\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("jobsctl_worker_jobs_running{task=\"c\"} 1"),
            "{text}"
        );
        assert!(!text.contains("queue_depth"));
        m.set_depth([("c".to_owned(), 7)].into());
        assert!(
            m.render()
                .contains("jobsctl_worker_queue_depth{task=\"c\"} 7")
        );
    }

    #[test]
    fn job_state_counts() {
        let m = Metrics::new(["t"].into_iter());
        assert!(
            !m.render().contains("jobsctl_jobs{"),
            "no sample, no series"
        );
        m.set_states(vec![StateCounts {
            task: "t".into(),
            queue: "q\"1".into(),
            counts: [1, 2, 3, 4, 5, 6],
            oldest_ready_age: Some(2.5),
            longest_running: None,
        }]);
        let text = m.render();
        assert!(
            text.contains("jobsctl_jobs{task=\"t\",queue=\"q\\\"1\",state=\"ready\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("jobsctl_jobs{task=\"t\",queue=\"q\\\"1\",state=\"paused\"} 6"),
            "{text}"
        );
        assert!(
            text.contains("jobsctl_jobs_oldest_ready_age_seconds{task=\"t\",queue=\"q\\\"1\"} 2.5"),
            "{text}"
        );
        assert!(
            text.contains("jobsctl_jobs_longest_running_seconds{task=\"t\",queue=\"q\\\"1\"} 0"),
            "{text}"
        );
    }
}
