//! Consumer benchmark: vouchers per second and backend requests per voucher on a backlogged queue,
//! on the embedded backend and on moto.
//!
//! `cargo bench --bench consumer` runs the full measurement; `cargo test` runs it as a quick smoke
//! check (a small backlog, embedded only). Requests are counted by the adapters: receive, batch
//! write, batch delete and visibility changes; the producer's sends are excluded.

#[path = "../tests/support/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

use voucherdeck::backend::Backend;
use voucherdeck::domain::GiftRequest;
use voucherdeck::embedded::Embedded;
use voucherdeck::pipeline::{ConsumerConfig, GiftOptions, Pipeline, PipelineConfig};

struct Measure {
    backend: &'static str,
    vouchers: u64,
    seconds: f64,
    steady_requests: u64,
    total_requests: u64,
    by_op: Vec<(&'static str, u64)>,
}

async fn preload(p: &Pipeline, n: usize) {
    let reqs: Vec<GiftRequest> = (0..n)
        .map(|i| GiftRequest {
            recipient: format!("user{i}@example.com"),
            amount: "10.00".into(),
            sender: format!("bench{}", i % 50),
            ..GiftRequest::default()
        })
        .collect();
    for chunk in reqs.chunks(500) {
        for r in p
            .gift_many(
                chunk,
                GiftOptions {
                    bulk: true,
                    ..GiftOptions::default()
                },
            )
            .await
        {
            r.expect("preload gift");
        }
    }
}

async fn measure(name: &'static str, backend: Backend, n: usize, concurrency: usize) -> Measure {
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    preload(&p, n).await;
    let before = p.backend().requests.total();
    let before_ops = p.backend().requests.by_op();
    let cfg = ConsumerConfig {
        concurrency,
        wait: Duration::from_secs(1),
        until_empty: true,
        publish_every: None,
        ..ConsumerConfig::default()
    };
    let started = Instant::now();
    let handle = p.start_consumer(cfg, None).expect("start the consumer");
    // Steady state: requests made until every voucher is persisted (before the drain check's tail).
    let steady = loop {
        if handle.snapshot().totals.persisted >= n as u64 {
            break p.backend().requests.total() - before;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let report = handle.join().await;
    let after_ops = p.backend().requests.by_op();
    let by_op = after_ops
        .iter()
        .map(|(op, count)| (*op, count - before_ops.get(op).copied().unwrap_or(0)))
        .filter(|(_, c)| *c > 0)
        .collect();
    assert_eq!(
        p.backend().store.count_vouchers().await.expect("count"),
        n as u64
    );
    Measure {
        backend: name,
        vouchers: report.totals.persisted,
        seconds,
        steady_requests: steady,
        total_requests: p.backend().requests.total() - before,
        by_op,
    }
}

fn print(m: &Measure) {
    let v = m.vouchers as f64;
    println!(
        "{:<9} {:>6} vouchers in {:>6.2} s = {:>8.0} vouchers/s | requests/voucher {:.3} backlog, {:.3} with drain tail",
        m.backend,
        m.vouchers,
        m.seconds,
        v / m.seconds,
        m.steady_requests as f64 / v,
        m.total_requests as f64 / v
    );
    let ops: Vec<String> = m.by_op.iter().map(|(op, c)| format!("{op}={c}")).collect();
    println!("          {}", ops.join(" "));
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let names = moto::unique_names("bench");
        if !full {
            let m = measure("embedded", Embedded::new(names).backend, 200, 4).await;
            assert!(m.steady_requests as f64 / m.vouchers as f64 <= 0.32);
            return;
        }
        println!("consumer benchmark (target: at most 0.32 requests per voucher on a backlog)");
        let m = measure("embedded", Embedded::new(names).backend, 20_000, 8).await;
        print(&m);
        let server = moto::MotoServer::start();
        let names = moto::unique_names("bench");
        let backend = moto::aws_backend(&server, names).await;
        // moto slows with depth (see SQS-FACTS.md): a 400-message backlog keeps it honest and quick.
        let m = measure("moto", backend, 400, 4).await;
        print(&m);
    });
}
