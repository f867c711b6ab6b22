//! `voucherdeck worker --listen ADDR` against moto, as an orchestrator and a scraper see it: the
//! real binary serves `/healthz`, `/readyz` and `/metrics` while it consumes, its counters follow
//! what it stored and dead-lettered, and a taken address fails the command before it consumes.

#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use voucherdeck_core::domain::GiftRequest;
use voucherdeck_core::ports::OutgoingMessage;
use voucherdeck_pipeline::{GiftOptions, Pipeline, PipelineConfig};

fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn worker(
    server: &moto::MotoServer,
    names: &voucherdeck_core::backend::Names,
    listen: SocketAddr,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_voucherdeck"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("NO_COLOR", "1")
        .args([
            "--endpoint-url",
            &server.endpoint(),
            "--region",
            "us-east-1",
        ])
        .args([
            "--queue",
            &names.queue,
            "--dlq",
            &names.dlq,
            "--table",
            &names.table,
        ])
        .args(["worker", "--listen", &listen.to_string()]);
    c
}

/// A figure of `/metrics` (`None` until it answers).
async fn figure(addr: SocketAddr, name: &str) -> Option<u64> {
    let r = http::send(addr, "GET", "/metrics", &[], None).await;
    (r.status == 200).then_some(())?;
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The worker process, killed if the test ends before it exits.
struct Killed(Option<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three gifts and one poison message on a provisioned pipeline.
async fn seed(server: &moto::MotoServer, names: &voucherdeck_core::backend::Names) {
    let p = Pipeline::new(
        moto::aws_backend(server, names.clone()).await,
        PipelineConfig::default(),
    );
    p.provision().await.expect("provision");
    let gifts: Vec<GiftRequest> = (0..3)
        .map(|i| GiftRequest {
            recipient: format!("user{i}@example.com"),
            amount: "5.00".into(),
            currency: Some("EUR".into()),
            sender: "acme".into(),
            note: None,
            idempotency_key: None,
        })
        .collect();
    for r in p.gift_many(&gifts, GiftOptions::default()).await {
        r.expect("gift");
    }
    let q = p.queue().await.expect("queue");
    p.backend()
        .queue
        .send_batch(&q, &[OutgoingMessage::plain("0", "not json")])
        .await
        .expect("poison");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_its_health_readiness_and_metrics() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("we");
    seed(&server, &names).await;

    let addr = free_addr();
    let child = worker(&server, &names, addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the worker");
    let mut child = Killed(Some(child));
    let deadline = Instant::now() + Duration::from_mins(1);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the worker does not listen on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let persisted = "voucherdeck_worker_vouchers_persisted_total";
    let dead = "voucherdeck_worker_dead_lettered_total";
    loop {
        let done = (figure(addr, persisted).await, figure(addr, dead).await);
        if done == (Some(3), Some(1)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker's metrics say {done:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let health = http::send(addr, "GET", "/healthz", &[], None).await;
    assert_eq!(health.status, 200);
    let ready = http::send(addr, "GET", "/readyz", &[], None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    let open = http::send(
        addr,
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text")],
        None,
    )
    .await;
    assert!(open.body.ends_with("# EOF\n"), "OpenMetrics when asked");
    // Served on the API's connection layer: its figures are there too.
    assert!(figure(addr, "voucherdeck_api_connections_open").await >= Some(1));

    // A second worker on the same address fails before it consumes.
    let out = worker(&server, &names, addr).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot listen") && !said.contains("worker started"),
        "{said}"
    );

    // SIGTERM: the worker finishes and its endpoints go with it.
    let mut child = child.0.take().expect("running");
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status:?}");
}
