//! The whole pipeline on the embedded backend: gift → queue → consumer → store → delete, at consumer
//! concurrency 1, 4 and 16, with each stage alone beside it (gifting into the queue with no consumer;
//! draining a preloaded backlog) to show which one saturates, and the CPU the process used (cores
//! busy = CPU time / wall time: 2.0 on 2 cores means CPU-bound).
//!
//! `cargo bench --bench pipeline` (200,000 vouchers a run; `VOUCHERDECK_BENCH_VOUCHERS` changes it);
//! `cargo test` runs it as a quick check on 2,000. Target: at least 100,000 vouchers/s on 2 cores.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::GiftRequest;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{ConsumerConfig, Pipeline, PipelineConfig};

/// The binary's allocator (`src/main.rs`), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gifts per `gift_many` call, as an import or an intake batching requests would send them.
const GIFT_BATCH: usize = 100;
/// Producer tasks running at once.
const PRODUCERS: usize = 2;

/// One measured run.
struct Measure {
    vouchers: u64,
    wall: Duration,
    cpu: Duration,
}

impl Measure {
    /// `n` vouchers over the time `clock` has run.
    fn of(n: usize, clock: &support::Stopwatch) -> Measure {
        let (cpu, wall) = clock.read();
        Measure {
            vouchers: n as u64,
            wall,
            cpu,
        }
    }

    fn rate(&self) -> f64 {
        self.vouchers as f64 / self.wall.as_secs_f64()
    }

    fn cores_busy(&self) -> f64 {
        self.cpu.as_secs_f64() / self.wall.as_secs_f64()
    }

    fn cpu_us_per_voucher(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.vouchers as f64
    }

    fn cell(&self) -> String {
        format!(
            "{:>9.0}/s {:>5.2} µs {:>4.2}",
            self.rate(),
            self.cpu_us_per_voucher(),
            self.cores_busy()
        )
    }
}

async fn pipeline() -> Pipeline {
    let p = Pipeline::new(
        Embedded::new(Names::default()).backend,
        PipelineConfig::default(),
    );
    p.prepare_embedded().await.expect("prepare");
    p
}

fn gifts(n: usize) -> Vec<GiftRequest> {
    (0..n)
        .map(|i| GiftRequest {
            recipient: format!("user{i}@example.com"),
            amount: "10.00".into(),
            sender: format!("sender{}", i % 100),
            note: Some("thanks for the help".into()),
            ..GiftRequest::default()
        })
        .collect()
}

/// Gifts every request, `PRODUCERS` tasks at once, `GIFT_BATCH` a call.
async fn produce(p: &Pipeline, reqs: std::sync::Arc<Vec<GiftRequest>>) {
    let per_task = reqs.len().div_ceil(PRODUCERS);
    let tasks: Vec<_> = (0..PRODUCERS)
        .map(|t| {
            let (p, reqs) = (p.clone(), reqs.clone());
            tokio::spawn(async move {
                let end = ((t + 1) * per_task).min(reqs.len());
                support::gift_bulk(&p, &reqs[(t * per_task).min(end)..end], GIFT_BATCH).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("producer task");
    }
}

fn consumer_config(concurrency: usize) -> ConsumerConfig {
    ConsumerConfig {
        concurrency,
        publish_every: None,
        ..ConsumerConfig::default()
    }
}

/// Waits until `n` vouchers are persisted, then stops the consumer and checks the store.
async fn finish(p: &Pipeline, handle: voucherdeck_pipeline::ConsumerHandle, n: usize) {
    while handle.snapshot().totals.persisted < n as u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    handle.shutdown();
    let _ = handle.join().await;
    assert_eq!(
        p.backend().store.count_vouchers().await.expect("count"),
        n as u64
    );
}

/// Producers and consumer at once, from the first gift to the last voucher persisted.
async fn whole(n: usize, concurrency: usize) -> Measure {
    let p = pipeline().await;
    let reqs = std::sync::Arc::new(gifts(n));
    let clock = support::Stopwatch::start();
    let handle = p
        .start_consumer(consumer_config(concurrency), None)
        .expect("consumer");
    produce(&p, reqs).await;
    finish(&p, handle, n).await;
    Measure::of(n, &clock)
}

/// Gifting alone, into a queue nobody reads.
async fn produce_only(n: usize) -> Measure {
    let p = pipeline().await;
    let reqs = std::sync::Arc::new(gifts(n));
    let clock = support::Stopwatch::start();
    produce(&p, reqs).await;
    Measure::of(n, &clock)
}

/// Draining a preloaded backlog alone.
async fn consume_only(n: usize, concurrency: usize) -> Measure {
    let p = pipeline().await;
    produce(&p, std::sync::Arc::new(gifts(n))).await;
    let clock = support::Stopwatch::start();
    let handle = p
        .start_consumer(consumer_config(concurrency), None)
        .expect("consumer");
    finish(&p, handle, n).await;
    Measure::of(n, &clock)
}

fn vouchers(full: bool) -> usize {
    if !full {
        return 2_000;
    }
    std::env::var("VOUCHERDECK_BENCH_VOUCHERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn main() {
    let full = support::full_run();
    let n = vouchers(full);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if full {
        support::print_machine("whole pipeline on the embedded backend");
        println!(
            "  {n} vouchers a run; {PRODUCERS} producer tasks gifting {GIFT_BATCH} a call (bulk)"
        );
        println!("  columns: vouchers/s, CPU per voucher, cores busy");
    }
    let gift = rt.block_on(produce_only(n));
    if full {
        println!("  gifting alone (no consumer)          {}", gift.cell());
    }
    let mut best = 0.0_f64;
    for c in [1, 4, 16] {
        let drain = rt.block_on(consume_only(n, c));
        let both = rt.block_on(whole(n, c));
        best = best.max(both.rate());
        if full {
            println!(
                "  concurrency {c:>2}: whole pipeline {}   draining alone {}",
                both.cell(),
                drain.cell()
            );
        }
    }
    if full {
        println!();
        support::print_table_header();
        support::print_row(
            "whole pipeline, embedded (vouchers/s)",
            &format!("{best:.0}"),
            &format!("{:.0} gift only", gift.rate()),
            Some(best / gift.rate()),
            "≥ 100,000 on 2 cores",
        );
    }
}
