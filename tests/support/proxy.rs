//! A fault-injecting HTTP proxy on loopback, between voucherdeck and moto: latency, HTTP 500 and
//! 503, throttling errors, connection resets before and after the upstream answered, requests
//! delivered twice, fixed delays
//! for chosen operations, and a "down" switch (every connection reset, as if the backend were gone).
//!
//! Include it with `#[path = "support/proxy.rs"] mod proxy;`. It runs on its own thread and
//! runtime, so synchronous tests and spawned processes can use it alike. One request per
//! connection (the proxy answers `Connection: close`), forwarded to the upstream as is. Random
//! faults come from a seeded generator; which request gets which depends on arrival order, so a
//! run is reproducible in kind, not request for request.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request or response the proxy carries.
const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// What goes wrong, per request, and how often (probabilities add up to at most 1).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Extra latency, uniformly up to this, with probability `latency_p`; then forwarded.
    pub latency: Duration,
    pub latency_p: f64,
    pub http_500_p: f64,
    pub http_503_p: f64,
    /// `ThrottlingException` (SQS) or `ProvisionedThroughputExceededException` (DynamoDB).
    pub throttle_p: f64,
    /// Reset before the request reaches the upstream.
    pub reset_before_p: f64,
    /// Forwarded, answered by the upstream, then reset: the client never sees the answer.
    pub reset_after_p: f64,
    /// Forwarded twice (as a network or a retry may deliver it); the client sees the second answer.
    pub duplicate_p: f64,
    /// Operations (`X-Amz-Target` suffixes such as `SendMessageBatch`, or query `Action`s) that
    /// random faults apply to; empty: all.
    pub only: Vec<&'static str>,
}

impl Faults {
    /// No random faults.
    pub fn none() -> Faults {
        Faults::default()
    }
}

/// What was injected, by kind, and what was seen, by operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: BTreeMap<String, u64>,
    pub injected: BTreeMap<&'static str, u64>,
    /// Injected faults by `kind operation`.
    pub injected_on: BTreeMap<String, u64>,
    /// Connections reset while the proxy was down.
    pub refused_while_down: u64,
}

impl Stats {
    pub fn requests_of(&self, op: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.ends_with(op))
            .map(|(_, v)| v)
            .sum()
    }

    pub fn injected(&self, kind: &str) -> u64 {
        self.injected.get(kind).copied().unwrap_or(0)
    }

    /// Faults of `kind` injected into an operation (by suffix).
    pub fn injected_on(&self, kind: &str, op: &str) -> u64 {
        self.injected_on
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{kind} ")) && k.ends_with(op))
            .map(|(_, v)| v)
            .sum()
    }
}

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Latency(Duration),
    Http(u16),
    Throttle,
    ResetBefore,
    ResetAfter,
    Duplicate,
}

impl Fault {
    const fn name(self) -> &'static str {
        match self {
            Fault::Latency(_) => "latency",
            Fault::Http(500) => "http_500",
            Fault::Http(_) => "http_503",
            Fault::Throttle => "throttle",
            Fault::ResetBefore => "reset_before",
            Fault::ResetAfter => "reset_after",
            Fault::Duplicate => "duplicate",
        }
    }
}

struct Inner {
    faults: Faults,
    rng: fastrand::Rng,
    down: bool,
    /// Fixed delays for operations (suffix of the operation name).
    delays: Vec<(String, Duration)>,
    /// Faults for the next requests of an operation: (suffix, fault, how many more).
    scripted: Vec<(String, Fault, u32)>,
    /// Faults for every request of an operation whose raw text carries all these strings.
    carrying: Vec<(String, Vec<String>, Fault)>,
    stats: Stats,
}

impl Inner {
    fn decide(&mut self, op: &str, raw: &[u8]) -> Option<Fault> {
        let text = String::from_utf8_lossy(raw);
        if let Some((_, _, fault)) = self.carrying.iter().find(|(suffix, needles, _)| {
            op.ends_with(suffix.as_str()) && needles.iter().all(|n| text.contains(n.as_str()))
        }) {
            return Some(*fault);
        }
        if let Some(entry) = self
            .scripted
            .iter_mut()
            .find(|(suffix, _, left)| *left > 0 && op.ends_with(suffix.as_str()))
        {
            entry.2 -= 1;
            return Some(entry.1);
        }
        let delay = self
            .delays
            .iter()
            .find(|(suffix, _)| op.ends_with(suffix.as_str()))
            .map(|(_, d)| *d);
        if let Some(d) = delay {
            return Some(Fault::Latency(d));
        }
        let f = &self.faults;
        if !f.only.is_empty() && !f.only.iter().any(|o| op.ends_with(o)) {
            return None;
        }
        let latency = f.latency;
        let table = [
            (f.latency_p, Fault::Latency(Duration::ZERO)),
            (f.http_500_p, Fault::Http(500)),
            (f.http_503_p, Fault::Http(503)),
            (f.throttle_p, Fault::Throttle),
            (f.reset_before_p, Fault::ResetBefore),
            (f.reset_after_p, Fault::ResetAfter),
            (f.duplicate_p, Fault::Duplicate),
        ];
        let roll = self.rng.f64();
        let mut acc = 0.0;
        for (p, fault) in table {
            acc += p;
            if roll < acc {
                return Some(match fault {
                    Fault::Latency(_) => {
                        let ms = latency.as_millis().max(1) as u64;
                        Fault::Latency(Duration::from_millis(self.rng.u64(0..=ms)))
                    }
                    other => other,
                });
            }
        }
        None
    }
}

/// A running proxy; stopped when dropped.
pub struct FaultProxy {
    port: u16,
    inner: Arc<Mutex<Inner>>,
    /// Going down also cuts the requests in progress (a long poll, a slow write).
    down: tokio::sync::watch::Sender<bool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `127.0.0.1:upstream`.
    pub fn start(upstream: u16, faults: Faults) -> FaultProxy {
        let inner = Arc::new(Mutex::new(Inner {
            rng: fastrand::Rng::with_seed(faults.seed),
            faults,
            down: false,
            delays: Vec::new(),
            scripted: Vec::new(),
            carrying: Vec::new(),
            stats: Stats::default(),
        }));
        let std_listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the proxy");
        std_listener.set_nonblocking(true).expect("non-blocking");
        let port = std_listener.local_addr().expect("proxy address").port();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (down, down_rx) = tokio::sync::watch::channel(false);
        let shared = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                tokio::select! {
                    () = accept_loop(listener, upstream, shared, down_rx) => {}
                    _ = stop_rx => {}
                }
            });
            rt.shutdown_background();
        });
        FaultProxy {
            port,
            inner,
            down,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Down: every connection is reset at once, those in progress included, as if the backend
    /// were gone.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
        self.down.send_replace(down);
    }

    /// Replaces the random faults (and reseeds).
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.rng = fastrand::Rng::with_seed(faults.seed);
        inner.faults = faults;
    }

    /// Delays every request of an operation (by the suffix of its name) by `d`; zero removes it.
    pub fn delay(&self, op: &str, d: Duration) {
        let mut inner = self.lock();
        inner.delays.retain(|(o, _)| o != op);
        if !d.is_zero() {
            inner.delays.push((op.to_string(), d));
        }
    }

    /// Injects `fault` into the next `times` requests of an operation (by suffix), before any
    /// random fault.
    pub fn fail_next(&self, op: &str, fault: Fault, times: u32) {
        self.lock().scripted.push((op.to_string(), fault, times));
    }

    /// Injects `fault` into every request of an operation (by suffix) whose text carries all of
    /// `needles` (a table name and an item's key, say): a fault that follows one item, whichever
    /// call carries it.
    pub fn fail_carrying(&self, op: &str, needles: &[&str], fault: Fault) {
        let needles = needles.iter().map(|n| (*n).to_string()).collect();
        self.lock().carrying.push((op.to_string(), needles, fault));
    }

    /// Drops the scripted faults left for an operation (by suffix).
    pub fn stop_failing(&self, op: &str) {
        self.lock().scripted.retain(|(o, _, _)| o != op);
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: u16,
    inner: Arc<Mutex<Inner>>,
    down: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        let mut down = down.clone();
        tokio::spawn(async move {
            // The connection's stream is shared with the cut below through a std handle.
            let Ok(std) = client.into_std() else { return };
            let Ok(cut) = std.try_clone() else { return };
            let Ok(client) = TcpStream::from_std(std) else {
                return;
            };
            tokio::select! {
                _ = serve(client, upstream, inner) => {}
                _ = down.wait_for(|d| *d) => {
                    if let Ok(cut) = TcpStream::from_std(cut) {
                        let _ = reset(cut);
                    }
                }
            }
        });
    }
}

/// One request: read it, decide its fault, forward it or not, answer or reset.
async fn serve(
    mut client: TcpStream,
    upstream: u16,
    inner: Arc<Mutex<Inner>>,
) -> std::io::Result<()> {
    let down = {
        let mut i = lock(&inner);
        if i.down {
            i.stats.refused_while_down += 1;
        }
        i.down
    };
    if down {
        return reset(client);
    }
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let fault = {
        let mut i = lock(&inner);
        *i.stats.requests.entry(request.op.clone()).or_default() += 1;
        let fault = i.decide(&request.op, &request.raw);
        if let Some(f) = fault {
            *i.stats.injected.entry(f.name()).or_default() += 1;
            *i.stats
                .injected_on
                .entry(format!("{} {}", f.name(), request.op))
                .or_default() += 1;
        }
        fault
    };
    match fault {
        Some(Fault::ResetBefore) => return reset(client),
        Some(Fault::Http(status)) => {
            let code = if status == 500 {
                "InternalFailure"
            } else {
                "ServiceUnavailable"
            };
            return answer_error(client, status, &request, code).await;
        }
        Some(Fault::Throttle) => {
            let code = if request.op.starts_with("DynamoDB") {
                "ProvisionedThroughputExceededException"
            } else {
                "ThrottlingException"
            };
            return answer_error(client, 400, &request, code).await;
        }
        Some(Fault::Latency(d)) => tokio::time::sleep(d).await,
        Some(Fault::Duplicate) => {
            if forward(upstream, &request.raw).await.is_err() {
                return reset(client);
            }
        }
        Some(Fault::ResetAfter) | None => {}
    }
    let Ok(response) = forward(upstream, &request.raw).await else {
        return reset(client);
    };
    if fault == Some(Fault::ResetAfter) {
        return reset(client);
    }
    client.write_all(&response).await?;
    client.shutdown().await
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Closes with a TCP reset (the client sees "connection reset by peer").
fn reset(stream: TcpStream) -> std::io::Result<()> {
    stream.set_zero_linger()?;
    drop(stream);
    Ok(())
}

struct Request {
    /// `AmazonSQS.SendMessageBatch`, `DynamoDB_20120810.PutItem`, or `query:GetCallerIdentity`.
    op: String,
    /// The request as it goes upstream (with `Connection: close`).
    raw: Vec<u8>,
    json: bool,
}

/// Reads one request; `None` if the client closed first.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let (head_len, method, path, headers) = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut hs = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut hs);
        if let httparse::Status::Complete(len) = req.parse(&buf).map_err(std::io::Error::other)? {
            let headers: Vec<(String, Vec<u8>)> = req
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                .collect();
            break (
                len,
                req.method.unwrap_or("POST").to_string(),
                req.path.unwrap_or("/").to_string(),
                headers,
            );
        }
        if buf.len() > MAX_MESSAGE {
            return Err(std::io::Error::other("request head too large"));
        }
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).to_string())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_len + length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("client closed mid-body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_len..head_len + length];
    let op = match header("x-amz-target") {
        Some(t) => t,
        None => format!("query:{}", query_action(body)),
    };
    let json = header("content-type").is_some_and(|c| c.contains("json"));
    let mut raw = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    for (name, value) in &headers {
        if name != "connection" {
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value);
            raw.extend_from_slice(b"\r\n");
        }
    }
    raw.extend_from_slice(b"connection: close\r\n\r\n");
    raw.extend_from_slice(body);
    Ok(Some(Request { op, raw, json }))
}

/// `Action=...` of a query-protocol body.
fn query_action(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action=").map(ToString::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Sends the request upstream and reads the whole answer; returns it with `Connection: close`.
async fn forward(upstream: u16, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, upstream))).await?;
    up.write_all(raw).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    if response.len() > MAX_MESSAGE {
        return Err(std::io::Error::other("response too large"));
    }
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hs);
    let httparse::Status::Complete(head_len) =
        resp.parse(&response).map_err(std::io::Error::other)?
    else {
        return Err(std::io::Error::other("incomplete upstream answer"));
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        resp.code.unwrap_or(502),
        resp.reason.unwrap_or("")
    )
    .into_bytes();
    for h in resp.headers.iter() {
        if !h.name.eq_ignore_ascii_case("connection") {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&response[head_len..]);
    Ok(out)
}

/// An error answer as the AWS JSON protocols spell it (query protocols get XML).
async fn answer_error(
    mut client: TcpStream,
    status: u16,
    request: &Request,
    code: &str,
) -> std::io::Result<()> {
    let message = format!("injected by the test proxy ({status})");
    let (content_type, body) = if request.json {
        (
            "application/x-amz-json-1.0",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
            ),
        )
    };
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         x-amzn-query-error: {code};Receiver\r\nconnection: close\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await?;
    client.write_all(body.as_bytes()).await?;
    client.shutdown().await
}
