//! Consumer behaviour on the embedded backend: retryable failures come back and succeed, exhausted
//! retries end in the DLQ with their reason in the failure log, and shutdown is prompt.

use std::time::Duration;

use voucherdeck_core::domain::{FailureKind, GiftRequest};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{ConsumerConfig, GiftOptions, Pipeline, PipelineConfig};

fn gift(i: usize) -> GiftRequest {
    GiftRequest {
        recipient: format!("user{i}@example.com"),
        amount: "3.00".into(),
        sender: "ops".into(),
        ..GiftRequest::default()
    }
}

async fn setup(config: PipelineConfig) -> (Embedded, Pipeline) {
    let e = Embedded::new(voucherdeck_core::backend::Names::default());
    let p = Pipeline::new(e.backend.clone(), config);
    p.provision().await.expect("provision");
    (e, p)
}

fn quick(until_empty: bool) -> ConsumerConfig {
    ConsumerConfig {
        concurrency: 2,
        wait: Duration::from_millis(200),
        until_empty,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        publish_every: Some(Duration::from_millis(100)),
        start_paused: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_outage_is_retried_then_persisted() {
    let (e, p) = setup(PipelineConfig::default()).await;
    let reqs: Vec<GiftRequest> = (0..5).map(gift).collect();
    for r in p.gift_many(&reqs, GiftOptions::bulk()).await {
        r.expect("gift");
    }
    e.store
        .simulate_outage(tokio::time::Instant::now() + Duration::from_millis(500));
    let h = p.start_consumer(quick(true), None).expect("start");
    let report = tokio::time::timeout(Duration::from_secs(20), h.join())
        .await
        .expect("drains");
    assert_eq!(p.backend().store.count_vouchers().await.expect("count"), 5);
    assert!(report.totals.failed >= 1, "the outage was seen: {report:?}");
    let log = p.recent_failures(50).await.expect("log");
    assert!(
        log.iter()
            .all(|r| r.kind == FailureKind::Unavailable && !r.dead_lettered)
    );
    assert!(
        log.iter()
            .all(|r| r.recipient.as_deref().is_some_and(|m| m.contains("***"))),
        "masked"
    );
    let dlq = p.dlq().await.expect("dlq");
    assert_eq!(
        p.backend().queue.stats(&dlq).await.expect("stats").visible,
        0
    );
    assert!(
        e.metrics.published().persisted >= 5,
        "consumer metrics published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_end_in_the_dlq_with_their_reason() {
    let (e, p) = setup(PipelineConfig {
        max_receive_count: 2,
        ..PipelineConfig::default()
    })
    .await;
    p.gift(&gift(1), GiftOptions::default())
        .await
        .expect("gift");
    e.store
        .simulate_outage(tokio::time::Instant::now() + Duration::from_hours(1));
    let h = p.start_consumer(quick(false), None).expect("start");
    let dlq = p.dlq().await.expect("dlq");
    let mut moved = false;
    for _ in 0..100 {
        if p.backend().queue.stats(&dlq).await.expect("stats").visible == 1 {
            moved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.shutdown();
    h.join().await;
    assert!(
        moved,
        "SQS semantics: moved to the DLQ after maxReceiveCount"
    );
    let listed = p.peek_dlq(10).await.expect("peek");
    let failure = listed[0]
        .failure
        .as_ref()
        .expect("reason joined from the failure log");
    assert_eq!(failure.kind(), "unavailable");
    assert!(
        failure.reason().contains("after 2 receives"),
        "{}",
        failure.reason()
    );
    let log = p.recent_failures(10).await.expect("log");
    assert!(
        log.iter().any(|r| r.dead_lettered && r.receive_count == 2),
        "last failure says it heads to the DLQ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_prompt_and_pause_stops_receiving() {
    let (_e, p) = setup(PipelineConfig::default()).await;
    let cfg = ConsumerConfig {
        wait: Duration::from_secs(20),
        ..quick(false)
    };
    let h = p.start_consumer(cfg, None).expect("start");
    h.set_paused(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.gift(&gift(2), GiftOptions::default())
        .await
        .expect("gift");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.snapshot().totals.persisted,
        0,
        "paused consumers do not receive"
    );
    h.set_paused(false);
    h.set_concurrency(3);
    for _ in 0..50 {
        if h.snapshot().totals.persisted == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.snapshot().totals.persisted, 1);
    assert_eq!(h.snapshot().concurrency, 3);
    h.shutdown();
    tokio::time::timeout(Duration::from_secs(2), h.join())
        .await
        .expect("a 20 s long poll does not delay shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_batch_is_kept_hidden_by_the_heartbeat() {
    // Visibility 2 s, a store write that takes 5 s: without the heartbeat the message would be
    // visible again after 2 s and a second loop would receive it while the first still works on it.
    let (e, p) = setup(PipelineConfig {
        visibility_timeout: Duration::from_secs(2),
        ..PipelineConfig::default()
    })
    .await;
    p.gift(&gift(7), GiftOptions::default())
        .await
        .expect("gift");
    e.store.simulate_slow_writes(Duration::from_secs(5));
    let h = p.start_consumer(quick(true), None).expect("start");
    let report = tokio::time::timeout(Duration::from_secs(30), h.join())
        .await
        .expect("drains");
    assert_eq!(
        report.totals.received, 1,
        "received once: the heartbeat kept it hidden"
    );
    assert_eq!(report.totals.persisted, 1);
    let counts = p.backend().requests.by_op();
    assert!(
        counts
            .get("sqs:ChangeMessageVisibilityBatch")
            .copied()
            .unwrap_or(0)
            >= 2,
        "the heartbeat extended visibility: {counts:?}"
    );
}
