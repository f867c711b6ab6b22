//! Intake benchmark: the HTTP API under 64 concurrent keep-alive clients with 8 keys.
//!
//! `cargo bench --bench intake` measures, printing the core count and the load average:
//! - on moto: accepted gifts/s, p50/p99 latency and AWS requests (SQS and DynamoDB together) per
//!   accepted gift of `serve` (target at most 0.25), and, in the same run on the same moto, a plain
//!   server sending one message per request (1.0 request per gift; target: 3× its gifts/s);
//! - on the embedded backend: accepted gifts/s and p99 (target at least 20,000/s, p99 under 20 ms
//!   on 2 cores);
//! - the machine's HTTP limit: a minimal axum handler parsing the same JSON and answering 202,
//!   driven by the same clients; the accepted path's ratio to it (target at least 0.6).
//!
//! `cargo test` runs it as a quick smoke check (embedded, a few hundred gifts).

#[path = "../tests/support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use voucherdeck_api::{RunningServer, ServeConfig};
use voucherdeck_core::backend::Backend;
use voucherdeck_core::domain::{KeySpec, Role};
use voucherdeck_core::ports::{OutgoingMessage, QueueRef};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, PipelineConfig};

/// The binary's allocator (`src/main.rs`), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLIENTS: usize = 64;
const KEYS: usize = 8;
const BODY: &str = r#"{"recipient":"ada@example.com","amount":"25.00"}"#;

/// One keep-alive connection sending gifts one after another.
struct Client {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr, key: &str) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let request = format!(
            "POST /v1/vouchers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes();
        Client {
            reader: BufReader::new(stream),
            request,
        }
    }

    /// Sends one gift; its status.
    async fn gift(&mut self) -> u16 {
        self.reader
            .get_mut()
            .write_all(&self.request)
            .await
            .expect("write");
        let mut status = 0;
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).await.expect("read");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(s) = l.strip_prefix("HTTP/1.1 ") {
                status = s[..3].parse().unwrap_or(0);
            } else if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.expect("body");
        status
    }
}

struct Run {
    accepted: u64,
    other: BTreeMap<u16, u64>,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn percentile(&self, p: usize) -> Duration {
        let mut l = self.latencies.clone();
        l.sort_unstable();
        l.get((l.len() * p / 100).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    fn rate(&self) -> f64 {
        self.accepted as f64 / self.seconds
    }
}

/// `CLIENTS` clients gift for `span` (or `per_client` gifts each when set).
async fn drive(
    addr: SocketAddr,
    keys: &[String],
    span: Duration,
    per_client: Option<usize>,
) -> Run {
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let key = keys[i % keys.len()].clone();
            tokio::spawn(async move {
                let mut c = Client::connect(addr, &key).await;
                let mut out = Vec::new();
                let mut n = 0;
                while per_client.map_or(started.elapsed() < span, |m| n < m) {
                    let t = Instant::now();
                    let status = c.gift().await;
                    out.push((status, t.elapsed()));
                    n += 1;
                }
                out
            })
        })
        .collect();
    let mut run = Run {
        accepted: 0,
        other: BTreeMap::new(),
        seconds: 0.0,
        latencies: Vec::new(),
    };
    for t in tasks {
        for (status, took) in t.await.expect("client") {
            if status == 202 {
                run.accepted += 1;
            } else {
                *run.other.entry(status).or_default() += 1;
            }
            run.latencies.push(took);
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run
}

async fn keys(p: &Pipeline) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..KEYS {
        let spec = KeySpec {
            sender: format!("bench{i}"),
            role: Role::Gifter,
            per_minute: 100_000,
            daily: 10_000_000,
        };
        out.push(p.create_key(&spec).await.expect("key").key);
    }
    out
}

fn serve_config() -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        trusted_proxies: Vec::new(),
        per_ip_per_minute: 0,
        metrics_every: None,
        ..ServeConfig::default()
    }
}

/// `serve` over `backend`: the run and the backend requests it made.
async fn measure_serve(
    backend: Backend,
    span: Duration,
    per_client: Option<usize>,
) -> (Run, u64, String) {
    let admin = Pipeline::new(backend.clone(), PipelineConfig::default());
    admin.provision().await.expect("provision");
    let keys = keys(&admin).await;
    let server = RunningServer::start(
        Pipeline::new(backend.clone(), PipelineConfig::default()),
        serve_config(),
    )
    .await
    .expect("server");
    // Warm up: each key read once, the queue resolved, first leases taken.
    drive(server.addr(), &keys, Duration::ZERO, Some(2)).await;
    let before = backend.requests.by_op();
    let run = drive(server.addr(), &keys, span, per_client).await;
    server.stop().await.expect("stop");
    let after = backend.requests.by_op();
    let mut requests = 0;
    let mut ops = Vec::new();
    for (op, n) in &after {
        let d = n - before.get(op).copied().unwrap_or(0);
        if d > 0 {
            requests += d;
            ops.push(format!("{op}={d}"));
        }
    }
    (run, requests, ops.join(" "))
}

/// The plain server's one handler: one send per request.
async fn one(State((b, q)): State<(Backend, QueueRef)>, body: String) -> StatusCode {
    let m = OutgoingMessage {
        id: "0".into(),
        body,
        attributes: BTreeMap::new(),
        delay: None,
        group: None,
        dedup: None,
    };
    match b.queue.send_batch(&q, &[m]).await {
        Ok(r) if r.failed.is_empty() => StatusCode::ACCEPTED,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The reference: a plain server sending one message per request, no keys, no limits.
async fn measure_plain(backend: Backend, span: Duration) -> (Run, u64) {
    let admin = Pipeline::new(backend.clone(), PipelineConfig::default());
    admin.provision().await.expect("provision");
    let queue = admin.queue().await.expect("queue");
    let app = axum::Router::new()
        .route("/v1/vouchers", post(one))
        .with_state((backend.clone(), queue));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    let before = backend.requests.total();
    let run = drive(addr, &["plain".to_string()], span, None).await;
    task.abort();
    (run, backend.requests.total() - before)
}

/// What the machine's HTTP limit parses: the same gift JSON.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct MinimalGift {
    recipient: String,
    amount: String,
}

/// The machine's HTTP limit's one handler: parse the gift, answer 202 with a small JSON body.
async fn minimal(body: axum::body::Bytes) -> (StatusCode, &'static str) {
    match serde_json::from_slice::<MinimalGift>(&body) {
        Ok(_) => (
            StatusCode::ACCEPTED,
            r#"{"voucher_id":"00000000-0000-0000-0000-000000000000","state":"queued"}"#,
        ),
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, "{}"),
    }
}

/// The machine's HTTP limit: a minimal axum server that parses the same JSON and answers 202,
/// driven by the same clients.
async fn measure_minimal(span: Duration) -> Run {
    let app = axum::Router::new().route("/v1/vouchers", post(minimal));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    let run = drive(addr, &["minimal".to_string()], span, None).await;
    task.abort();
    run
}

fn line(name: &str, run: &Run, requests: Option<u64>) {
    let per = requests.map_or_else(String::new, |r| {
        format!(
            " | {:.3} AWS requests per accepted gift",
            r as f64 / run.accepted.max(1) as f64
        )
    });
    println!(
        "{name:<24} {:>7} accepted in {:>5.1} s = {:>8.0}/s | p50 {:>6.1} ms p99 {:>6.1} ms{per}{}",
        run.accepted,
        run.seconds,
        run.rate(),
        run.percentile(50).as_secs_f64() * 1000.0,
        run.percentile(99).as_secs_f64() * 1000.0,
        if run.other.is_empty() {
            String::new()
        } else {
            format!(" | other answers {:?}", run.other)
        }
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if !full {
            let names = moto::unique_names("bench-intake");
            let (run, _, _) = measure_serve(Embedded::new(names).backend, Duration::ZERO, Some(5)).await;
            assert_eq!(run.accepted, (CLIENTS * 5) as u64, "{:?}", run.other);
            let limit = measure_minimal(Duration::from_millis(100)).await;
            assert!(limit.accepted > 0 && limit.other.is_empty(), "{:?}", limit.other);
            return;
        }
        // `-- embedded`: the embedded run alone (for a profiler).
        if std::env::args().any(|a| a == "embedded") {
            let names = moto::unique_names("bench-embedded");
            let (run, _, _) = measure_serve(Embedded::new(names).backend, Duration::from_secs(5), None).await;
            line("embedded: serve", &run, None);
            return;
        }
        let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
        println!("intake benchmark: {cores} cores, load average {} (before), {CLIENTS} clients, {KEYS} keys", load_average());
        let moto = moto::MotoServer::start();
        let span = Duration::from_secs(10);
        let backend = moto::aws_backend(&moto, moto::unique_names("bench-serve")).await;
        let (run, requests, ops) = measure_serve(backend, span, None).await;
        line("moto: serve", &run, Some(requests));
        println!("{:<24} {ops}", "");
        let plain_backend = moto::aws_backend(&moto, moto::unique_names("bench-plain")).await;
        let (plain, plain_requests) = measure_plain(plain_backend, span).await;
        line("moto: plain reference", &plain, Some(plain_requests));
        println!(
            "{:<24} serve/plain = {:.1}x (target at least 3x); requests per gift target at most 0.25",
            "",
            run.rate() / plain.rate().max(f64::MIN_POSITIVE)
        );
        let names = moto::unique_names("bench-embedded");
        let (run, _, _) = measure_serve(Embedded::new(names).backend, Duration::from_secs(5), None).await;
        line("embedded: serve", &run, None);
        println!("{:<24} target at least 20000/s with p99 under 20 ms", "");
        let limit = measure_minimal(Duration::from_secs(5)).await;
        line("minimal axum (limit)", &limit, None);
        println!(
            "{:<24} serve/limit = {:.2} (target at least 0.6); load average {} (after)",
            "",
            run.rate() / limit.rate().max(f64::MIN_POSITIVE),
            load_average()
        );
    });
}
