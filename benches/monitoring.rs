//! What an open dashboard costs on AWS: the requests it makes per minute, by service and operation,
//! at the defaults (`MonitorConfig::aws`: depth every 5 s, oldest age and alarms every minute, new
//! failures every 10 s, new audit entries every minute, the worker started paused), against moto. The dashboard's feeds run as the dashboard runs them (its effects
//! runner), from their first poll, for whole minutes.
//!
//! `cargo bench --bench monitoring` (2 minutes; `VOUCHERDECK_BENCH_MINUTES` changes it); `cargo
//! test` runs it for a few seconds as a check. Targets per minute and pipeline: at most 30 SQS,
//! 12 DynamoDB and 2 CloudWatch requests. Prices: SQS $0.40 per million requests, DynamoDB on-demand
//! reads $0.125 per million (a query of up to 4 KiB is half a read unit), CloudWatch `GetMetricData`
//! $0.01 per 1,000 metrics (five a call: two ages, three intake sums), `DescribeAlarms` $0.01 per 1,000 requests. The reference,
//! measured in the same run: reading the whole failure log at every poll, as the dashboard once did.

#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;
use voucherdeck_pipeline::{MonitorConfig, Pipeline, PipelineConfig};
use voucherdeck_tui::effects::{Effects, EffectsConfig};

/// The dashboard's settings on AWS (see `cli/dashboard.rs`).
fn dashboard_on_aws() -> EffectsConfig {
    EffectsConfig {
        worker: true,
        worker_paused: true,
        worker_concurrency: 4,
        monitor: MonitorConfig::aws(),
        export_dir: std::env::temp_dir(),
    }
}

fn window(full: bool) -> Duration {
    if !full {
        return Duration::from_secs(6);
    }
    let minutes = std::env::var("VOUCHERDECK_BENCH_MINUTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(2);
    Duration::from_mins(minutes.max(1))
}

/// Requests by operation made by a dashboard left open for `window`.
async fn open_dashboard(server: &moto::MotoServer, window: Duration) -> BTreeMap<String, u64> {
    let backend = moto::aws_backend(server, moto::unique_names("cost")).await;
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    let before = p.backend().requests.by_op();
    let (tx, mut rx) = mpsc::channel(1024);
    let mut effects = Effects::start(p.clone(), tx, dashboard_on_aws());
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tokio::time::sleep(window).await;
    effects.shutdown().await;
    drain.abort();
    p.backend()
        .requests
        .by_op()
        .into_iter()
        .map(|(op, n)| (op.to_string(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The reference: what reading the newest 200 failures whole costs, in DynamoDB queries (one per
/// day of the log it walks back through).
async fn full_read_queries(server: &moto::MotoServer) -> u64 {
    let backend = moto::aws_backend(server, moto::unique_names("full")).await;
    let p = Pipeline::new(backend, PipelineConfig::default());
    p.provision().await.expect("provision");
    let before = p.backend().requests.total();
    p.recent_failures(200).await.expect("read the failure log");
    p.backend().requests.total() - before
}

fn per_service(ops: &BTreeMap<String, u64>, service: &str) -> u64 {
    ops.iter()
        .filter(|(op, _)| op.starts_with(service))
        .map(|(_, n)| n)
        .sum()
}

fn main() {
    let full = support::full_run();
    let window = window(full);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = moto::MotoServer::start();
    let ops = rt.block_on(open_dashboard(&server, window));
    let full_read = rt.block_on(full_read_queries(&server));
    let minutes = window.as_secs_f64() / 60.0;
    let rate = |n: u64| n as f64 / minutes;
    assert!(
        per_service(&ops, "sqs:") > 0,
        "the dashboard polled the queues"
    );
    if !full {
        return;
    }
    support::print_machine("dashboard monitoring cost on AWS (moto)");
    println!("  one dashboard left open {minutes:.0} min at the defaults, requests per minute:");
    for (op, n) in &ops {
        println!("  {op:<40} {:>8.1}", rate(*n));
    }
    println!();
    support::print_table_header();
    for (service, target) in [("sqs:", 30.0), ("dynamodb:", 12.0), ("cloudwatch:", 2.0)] {
        let ours = rate(per_service(&ops, service));
        support::print_row(
            &format!("{service} requests per minute"),
            &format!("{ours:.1}"),
            &format!("{target:.0} target"),
            Some(ours / target),
            &format!("≤ {target:.0}"),
        );
    }
    let hour = |op: &str, price_per_million: f64| {
        rate(per_service(&ops, op)) * 60.0 * price_per_million / 1e6
    };
    // GetMetricData is priced per metric (five a call), DescribeAlarms per request.
    let dollars = hour("sqs:", 0.40)
        + hour("dynamodb:", 0.125 / 2.0)
        + hour("cloudwatch:GetMetricData", 50.0)
        + hour("cloudwatch:DescribeAlarms", 10.0);
    let failures_every = MonitorConfig::aws().failures_every.as_secs_f64();
    support::print_row(
        "log queries per minute (failures, audit)",
        &format!("{:.1}", rate(per_service(&ops, "dynamodb:Query"))),
        &format!(
            "{:.1} reading it whole every {failures_every:.0} s",
            full_read as f64 * 60.0 / failures_every
        ),
        None,
        "only what is new",
    );
    println!(
        "  cost of an hour open: ${dollars:.5} (about ${:.2} a month left open)",
        dollars * 730.0
    );
}
