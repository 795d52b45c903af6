//! The http handler: POST the payload as JSON to the task's URL with the
//! job's metadata in headers; a 2xx answer completes the job, anything
//! else (a status, a timeout, a refused connection) fails it with the
//! status and the start of the body.
//!
//! With a `secret`, requests are signed as the Standard Webhooks
//! specification says: `webhook-id` (`<job id>-<attempt>`),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`; a secret
//! written `whsec_<base64>` is decoded first, any other is used as bytes).
//!
//! One connection per request (HTTP/1.1), TLS through rustls with the
//! system's root certificates.

use super::Shared;
use super::config::{DEFAULT_HTTP_TIMEOUT, Task};
use super::job::{Job, Outcome, head};
use base64::Engine as _;
use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of a response body kept for the error message.
const BODY_EXCERPT: usize = 200;

/// A job's request headers besides the signature.
pub fn metadata_headers(shared: &Shared, job: &Job) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("x-worker-id", shared.options.worker_id.clone()),
        ("x-job-id", job.id.to_string()),
        ("x-database-id", job.database_id.clone()),
        ("x-job-task", job.task.clone()),
        ("x-job-attempts", job.attempts.to_string()),
        ("x-job-max-attempts", job.max_attempts.to_string()),
    ];
    if let Some(key) = &job.key {
        headers.push(("x-job-key", key.clone()));
    }
    if let Some(queue) = &job.queue_name {
        headers.push(("x-job-queue", queue.clone()));
    }
    headers
}

/// The Standard Webhooks headers for `body`.
pub fn signature_headers(
    secret: &str,
    id: &str,
    timestamp: u64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", format!("v1,{signature}")),
    ]
}

/// Run one job with the http handler.
pub async fn run_job(shared: &Arc<Shared>, task: &Task, url: &str, job: &Job) -> Outcome {
    let timeout = task.timeout.unwrap_or(DEFAULT_HTTP_TIMEOUT);
    let headers = request_headers(shared, task, job, &[]);
    match post(
        shared,
        url,
        headers,
        Bytes::from(job.payload.clone()),
        timeout,
    )
    .await
    {
        Ok((status, _)) if status.is_success() => Outcome::Completed,
        Ok((status, body)) => Outcome::Failed(status_error(url, status, &body)),
        Err(error) => Outcome::Failed(error),
    }
}

/// Metadata, extra and (with a secret) signature headers.
pub fn request_headers(
    shared: &Shared,
    task: &Task,
    job: &Job,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut headers = metadata_headers(shared, job);
    headers.extend(extra.iter().cloned());
    if let Some(secret) = &task.secret {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let id = format!("{}-{}", job.id, job.attempts);
        headers.extend(signature_headers(secret, &id, now, job.payload.as_bytes()));
    }
    headers
}

pub fn status_error(url: &str, status: hyper::StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let excerpt = head(&text, BODY_EXCERPT);
    if excerpt.is_empty() {
        format!("POST {url}: HTTP {status}")
    } else {
        format!("POST {url}: HTTP {status}: {excerpt}")
    }
}

/// POST `body` as JSON; the status and up to a few KiB of the answer.
pub async fn post(
    shared: &Shared,
    url: &str,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    timeout: Duration,
) -> Result<(hyper::StatusCode, Vec<u8>), String> {
    match tokio::time::timeout(timeout, post_inner(shared, url, headers, body)).await {
        Ok(result) => result.map_err(|e| format!("POST {url}: {e}")),
        Err(_) => Err(format!(
            "POST {url}: no answer within {}s",
            timeout.as_secs_f64()
        )),
    }
}

async fn post_inner(
    shared: &Shared,
    url: &str,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
) -> Result<(hyper::StatusCode, Vec<u8>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri.host().ok_or("the URL has no host")?.to_owned();
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let stream = tokio::net::TcpStream::connect((bare_host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut request = Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("jobsctl/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| format!("invalid header: {e}"))?;
    if https {
        let name = rustls::pki_types::ServerName::try_from(bare_host.clone())
            .map_err(|e| format!("invalid server name {bare_host}: {e}"))?;
        let connector = tokio_rustls::TlsConnector::from(shared.tls()?);
        let stream = connector
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake with {host}:{port}: {e}"))?;
        exchange(TokioIo::new(stream), request).await
    } else {
        exchange(TokioIo::new(stream), request).await
    }
}

async fn exchange<T>(
    io: T,
    request: Request<Full<Bytes>>,
) -> Result<(hyper::StatusCode, Vec<u8>), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut kept = Vec::new();
    while kept.len() < 4096 {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    kept.extend_from_slice(data);
                }
            }
            _ => break,
        }
    }
    Ok((status, kept))
}

/// The TLS settings for https handlers: rustls with ring and the system's
/// root certificates (loaded once).
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    for cert in loaded.certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let headers = signature_headers(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            headers[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
