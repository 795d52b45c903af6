//! The callback mode of `@constructive-io/knative-job-worker`: the job is
//! POSTed to the function (payload as the JSON body; `X-Worker-Id`,
//! `X-Job-Id`, `X-Database-Id`, `X-Callback-Url` headers, plus ours); a
//! 2xx answer means "accepted", and the function reports later with a POST
//! to the callback URL, which this worker serves:
//!
//! - headers `X-Worker-Id` (ours) and `X-Job-Id` (a job this worker runs);
//! - `X-Job-Error: true` fails the job with the body's `error` (else
//!   `message`, else `UNKNOWN_ERROR`); otherwise it completes.
//!
//! A job whose function never calls back is failed by the task's
//! `timeout` (none by default: the lock refresh keeps it while the worker
//! lives).

use super::Shared;
use super::config::Task;
use super::http::{post, request_headers, status_error};
use super::job::{Job, MAX_ERROR, Outcome, head};
use super::serve::{self, Handle, Reply};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the function may take to accept the request itself.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run_job(shared: &Arc<Shared>, task: &Task, url: &str, job: &Job) -> Outcome {
    let Some(callback_url) = shared.callback_url.get().cloned() else {
        return Outcome::Failed("the worker has no callback URL (--callback-addr)".into());
    };
    let (sender, receiver) = oneshot::channel();
    // Registered before the request: the function may call back before
    // it answers.
    shared
        .callbacks
        .lock()
        .expect("not poisoned")
        .insert(job.id, sender);
    let _registered = Unregister(shared, job.id);
    let headers = request_headers(shared, task, job, &[("x-callback-url", callback_url)]);
    let accept_timeout = task.timeout.unwrap_or(ACCEPT_TIMEOUT).min(ACCEPT_TIMEOUT);
    match post(
        shared,
        url,
        headers,
        Bytes::from(job.payload.clone()),
        accept_timeout,
    )
    .await
    {
        Ok((status, _)) if status.is_success() => {}
        Ok((status, body)) => return Outcome::Failed(status_error(url, status, &body)),
        Err(error) => return Outcome::Failed(error),
    }
    let wait = async {
        match task.timeout {
            Some(t) => tokio::time::timeout(t, receiver).await.ok(),
            None => Some(receiver.await),
        }
    };
    match wait.await {
        Some(Ok(outcome)) => outcome,
        Some(Err(_)) => Outcome::Failed("the callback was dropped".into()),
        None => Outcome::Failed(format!(
            "{url} accepted the job but did not call back within {}s",
            task.timeout.map_or(0.0, |t| t.as_secs_f64())
        )),
    }
}

struct Unregister<'a>(&'a Shared, i64);

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.0
            .callbacks
            .lock()
            .expect("not poisoned")
            .remove(&self.1);
    }
}

/// The callback endpoint: `POST` (to `/callback` or any path).
pub fn handler(shared: Weak<Shared>) -> Handle {
    Arc::new(move |request| {
        let shared = shared.clone();
        Box::pin(async move {
            match shared.upgrade() {
                Some(shared) => handle(&shared, request).await,
                None => serve::reply(503, "application/json", r#"{"error":"stopping"}"#),
            }
        })
    })
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    let json = "application/json";
    if request.method() != hyper::Method::POST {
        return serve::reply(405, json, r#"{"error":"use POST"}"#);
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let worker_id = header("x-worker-id");
    let job_id = header("x-job-id").and_then(|v| v.trim().parse::<i64>().ok());
    let is_error = header("x-job-error").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (Some(worker_id), Some(job_id)) = (worker_id, job_id) else {
        return serve::reply(
            400,
            json,
            r#"{"error":"Missing X-Worker-Id or X-Job-Id header"}"#,
        );
    };
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if worker_id != shared.options.worker_id {
        return serve::reply(404, json, r#"{"error":"not this worker's job"}"#);
    }
    let outcome = if is_error {
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let message = ["error", "message"]
            .iter()
            .find_map(|k| match value.get(k) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            })
            .unwrap_or_else(|| "UNKNOWN_ERROR".to_owned());
        Outcome::Failed(head(&message, MAX_ERROR))
    } else {
        Outcome::Completed
    };
    let sender = shared
        .callbacks
        .lock()
        .expect("not poisoned")
        .remove(&job_id);
    let answer =
        serde_json::json!({ "workerId": worker_id, "jobId": job_id.to_string() }).to_string();
    match sender {
        Some(sender) => {
            let _ = sender.send(outcome);
            serve::reply(200, json, answer)
        }
        None => serve::reply(404, json, r#"{"error":"no such running job"}"#),
    }
}
