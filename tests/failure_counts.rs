//! Failures by reason and time, from the failure log of the embedded backend.

use std::time::Duration;

use voucherdeck_core::domain::{FailureKind, FailureRecord, Timestamp};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Per, Pipeline, PipelineConfig};

fn record(at: Timestamp, kind: FailureKind, reason: &str) -> FailureRecord {
    FailureRecord {
        record_id: uuid::Uuid::now_v7(),
        at,
        queue: "vouchers".into(),
        message_id: "m-1".into(),
        voucher_id: None,
        recipient: None,
        kind,
        reason: reason.into(),
        receive_count: 1,
        worker: "w-1".into(),
        dead_lettered: false,
        group: None,
    }
}

#[tokio::test]
async fn failures_count_by_reason_per_hour_and_per_day() {
    let e = Embedded::new(voucherdeck_core::backend::Names::default());
    let p = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    let now = Timestamp::now();
    let hours = |n: u64| now.minus(Duration::from_secs(3600 * n));
    let amount = "invalid gift: amount must be positive";
    e.backend
        .failures
        .record(&[
            record(now, FailureKind::Invalid, amount),
            record(now, FailureKind::Invalid, amount),
            record(hours(2), FailureKind::Invalid, amount),
            record(hours(5), FailureKind::NotJson, "body is not JSON"),
            record(hours(24 * 3), FailureKind::NotJson, "body is not JSON"),
            record(hours(24 * 8), FailureKind::Timeout, "too old to count"),
        ])
        .await
        .expect("record");

    let per_hour = p.failure_counts(Per::Hour).await.expect("per hour");
    assert_eq!(per_hour.periods.len(), 24);
    assert!(per_hour.complete);
    let reasons: Vec<(&str, u64)> = per_hour
        .reasons
        .iter()
        .map(|r| (r.reason.as_str(), r.total))
        .collect();
    assert_eq!(reasons, vec![(amount, 3), ("body is not JSON", 1)]);
    let invalid = &per_hour.reasons[0];
    assert_eq!(invalid.counts[23], 2, "this hour: {:?}", invalid.counts);
    assert_eq!(invalid.counts.iter().sum::<u64>(), 3);

    let per_day = p.failure_counts(Per::Day).await.expect("per day");
    assert_eq!(per_day.periods.len(), 7);
    let totals: Vec<(FailureKind, u64)> =
        per_day.reasons.iter().map(|r| (r.kind, r.total)).collect();
    assert_eq!(
        totals,
        vec![(FailureKind::Invalid, 3), (FailureKind::NotJson, 2)],
        "the 8-day-old failure is not counted"
    );
}
