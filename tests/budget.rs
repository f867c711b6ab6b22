//! The polling budget of one watched pipeline on AWS (moto here), measured with the adapters'
//! request counter: each poll's cost times how often the default schedule runs it stays within 30
//! SQS, 12 DynamoDB and 2 CloudWatch requests a minute (the failure and audit logs read only what
//! is new after a first read of a day); and the monitor really keeps that schedule.
//! (`cargo bench --bench monitoring` leaves a dashboard open for whole minutes.)

#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use voucherdeck_core::domain::limits::{
    POLL_BUDGET_CLOUDWATCH_PER_MINUTE, POLL_BUDGET_DYNAMODB_PER_MINUTE, POLL_BUDGET_SQS_PER_MINUTE,
};
use voucherdeck_core::domain::{FailureKind, FailureRecord, Timestamp};
use voucherdeck_core::ports::RequestCounter;
use voucherdeck_pipeline::{MonitorConfig, Pipeline, PipelineConfig};

/// Requests by service (`sqs`, `dynamodb`, `cloudwatch`) since `before`.
fn by_service(counter: &RequestCounter, before: &BTreeMap<&str, u64>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (op, n) in counter.by_op() {
        let service = op.split(':').next().unwrap_or(op).to_string();
        *out.entry(service).or_default() += n - before.get(op).copied().unwrap_or(0);
    }
    out.retain(|_, n| *n > 0);
    out
}

fn record(i: u128) -> FailureRecord {
    FailureRecord {
        record_id: uuid::Uuid::from_u128(i),
        at: Timestamp::now(),
        queue: "q".into(),
        message_id: format!("m{i}"),
        voucher_id: None,
        recipient: None,
        kind: FailureKind::NotJson,
        reason: "not json".into(),
        receive_count: 1,
        worker: "w".into(),
        dead_lettered: true,
        group: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_one_pipeline_stays_within_its_budget() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("budget");
    let backend = moto::aws_backend(&server, names).await;
    let counter = backend.requests.clone();
    let p = Pipeline::new(backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    p.provision_alarms(None).await.expect("alarms");
    backend
        .failures
        .record(&[record(1), record(2)])
        .await
        .expect("records");
    p.depths().await.expect("queues resolved once");
    let cfg = MonitorConfig::aws();

    // What one poll of each feed costs.
    let cost = |before: BTreeMap<&'static str, u64>, service: &str| {
        by_service(&counter, &before)
            .get(service)
            .copied()
            .unwrap_or(0)
    };
    let before = counter.by_op();
    p.depths().await.expect("depth");
    let depth = cost(before, "sqs");
    let before = counter.by_op();
    p.read_minute()
        .await
        .expect("ages and the intake servers' figures");
    let age = cost(before, "cloudwatch");
    let before = counter.by_op();
    p.alarms().await.expect("alarms");
    let alarms = cost(before, "cloudwatch");
    let before = counter.by_op();
    let newer = p
        .failures_since(
            Timestamp::now().minus(Duration::from_mins(1)),
            cfg.failures_limit,
        )
        .await
        .expect("failures");
    let failures = cost(before, "dynamodb");
    assert_eq!(newer.len(), 2, "the incremental read finds the new records");
    let before = counter.by_op();
    p.audit_since(
        Timestamp::now().minus(Duration::from_mins(1)),
        cfg.audit_limit,
    )
    .await
    .expect("audit");
    let audit = cost(before, "dynamodb");
    assert_eq!((depth, age, alarms, failures, audit), (2, 1, 1, 1, 1));

    let per_minute = |n: u64, every: Duration| n as f64 * MonitorConfig::per_minute(every);
    let sqs = per_minute(depth, cfg.depth_every);
    let cloudwatch = per_minute(age, cfg.age_every) + per_minute(alarms, cfg.alarms_every);
    let dynamodb = per_minute(failures, cfg.failures_every) + per_minute(audit, cfg.audit_every);
    println!("per minute at the defaults: {sqs} SQS, {dynamodb} DynamoDB, {cloudwatch} CloudWatch");
    assert!(sqs <= POLL_BUDGET_SQS_PER_MINUTE as f64, "{sqs} SQS");
    assert!(
        dynamodb <= POLL_BUDGET_DYNAMODB_PER_MINUTE as f64,
        "{dynamodb} DynamoDB"
    );
    assert!(
        cloudwatch <= POLL_BUDGET_CLOUDWATCH_PER_MINUTE as f64,
        "{cloudwatch} CloudWatch"
    );

    // The monitor keeps that schedule: in 11 s, depth at 0, 5 and 10 s; age and alarms once; the
    // failure log read for the last day once (two daily partitions), then only what is new; the
    // audit log read for the last day once (it is polled once a minute).
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let before = counter.by_op();
    p.spawn_monitor(cfg, tx, cancel.clone());
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tokio::time::sleep(Duration::from_millis(11_500)).await;
    cancel.cancel();
    let seen = by_service(&counter, &before);
    drain.abort();
    println!("in 11.5 s: {seen:?}");
    assert_eq!(seen.get("sqs"), Some(&6));
    assert_eq!(seen.get("cloudwatch"), Some(&2));
    assert_eq!(seen.get("dynamodb"), Some(&(2 + 1 + 2)));
}
