//! Polling budget: the requests one dashboard's feeds make in a minute of watching a pipeline on
//! AWS (moto), by service, against the budget of 30 SQS, 12 DynamoDB and 2 CloudWatch requests a
//! minute. The reference, measured in the same run: reading the whole failure log at every poll
//! (what the dashboard did before it read only what is new).
//!
//! `cargo bench --bench budget` watches for a full minute; `cargo test` runs a one-second smoke
//! check on the embedded engine.

#[path = "../tests/support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use voucherdeck::backend::Backend;
use voucherdeck::embedded::Embedded;
use voucherdeck::pipeline::{MonitorConfig, Pipeline, PipelineConfig};

/// Requests by service made while the monitor watches for `span`.
async fn watch(backend: Backend, span: Duration) -> BTreeMap<String, u64> {
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    p.provision_alarms(None).await.expect("alarms");
    // The queues' URLs are resolved once per run, not per minute.
    p.queue().await.expect("queue");
    p.dlq().await.expect("dlq");
    let before = p.backend().requests.by_op();
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    p.spawn_monitor(MonitorConfig::aws(), tx, cancel.clone());
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tokio::time::sleep(span).await;
    cancel.cancel();
    drain.abort();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (op, n) in p.backend().requests.by_op() {
        let service = op.split(':').next().unwrap_or(op).to_string();
        *out.entry(service).or_default() += n - before.get(op).copied().unwrap_or(0);
    }
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if !full {
            let seen = watch(
                Embedded::new(moto::unique_names("budget")).backend,
                Duration::from_millis(500),
            )
            .await;
            assert_eq!(seen.get("sqs"), Some(&2), "{seen:?}");
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        println!("polling budget of one watched pipeline on moto ({cores} cores)");
        let server = moto::MotoServer::start();
        let backend = moto::aws_backend(&server, moto::unique_names("budget")).await;
        let started = Instant::now();
        let seen = watch(backend.clone(), Duration::from_mins(1)).await;
        println!(
            "one minute ({:.0} s): {} SQS (budget 30), {} DynamoDB (budget 12; the first reads of \
             the failure and audit logs cover a day, two queries each), {} CloudWatch (budget 2)",
            started.elapsed().as_secs_f64(),
            seen.get("sqs").copied().unwrap_or(0),
            seen.get("dynamodb").copied().unwrap_or(0),
            seen.get("cloudwatch").copied().unwrap_or(0),
        );
        let p = Pipeline::new(backend, PipelineConfig::default());
        let before = p.backend().requests.total();
        p.recent_failures(200).await.expect("read");
        let full_read = p.backend().requests.total() - before;
        println!(
            "reference: reading the whole log every 5 s costs {full_read} queries a read, {} a minute",
            full_read * 12
        );
    });
}
