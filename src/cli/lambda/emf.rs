//! The consumer's figures as CloudWatch embedded metric format (EMF): one JSON line on stdout per
//! batch, which Lambda's log delivery turns into the same metrics a worker publishes with
//! `PutMetricData` (namespace `Voucherdeck`, dimension `Queue`), with no API call on the way.

use serde_json::{Value, json};
use voucherdeck_core::ports::{
    ConsumerStats, METRIC_DEAD_LETTERED, METRIC_FAILED, METRIC_LATENCY, METRIC_PERSISTED,
    METRICS_NAMESPACE, QUEUE_DIMENSION,
};

/// Most values of one metric in one EMF document.
const VALUES_MAX: usize = 100;

/// The EMF document of one batch of `counts.received` messages that took `latency_ms`, at
/// `at_ms` (Unix milliseconds). Each message's latency is the batch's, as a worker counts it.
pub fn line(queue: &str, counts: &ConsumerStats, latency_ms: f64, at_ms: i64) -> Value {
    let n = usize::try_from(counts.received).unwrap_or(usize::MAX);
    let latency = if latency_ms.is_finite() && latency_ms >= 0.0 {
        latency_ms
    } else {
        0.0
    };
    let latencies = vec![latency; n.clamp(1, VALUES_MAX)];
    let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
    json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [[QUEUE_DIMENSION]],
                "Metrics": [
                    metric(METRIC_PERSISTED, "Count"),
                    metric(METRIC_FAILED, "Count"),
                    metric(METRIC_DEAD_LETTERED, "Count"),
                    metric(METRIC_LATENCY, "Milliseconds"),
                ],
            }],
        },
        QUEUE_DIMENSION: queue,
        METRIC_PERSISTED: counts.persisted,
        METRIC_FAILED: counts.failed,
        METRIC_DEAD_LETTERED: counts.dead_lettered,
        METRIC_LATENCY: latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_one_document_with_every_figure_declared() {
        let counts = ConsumerStats {
            received: 10,
            persisted: 9,
            failed: 1,
            dead_lettered: 1,
        };
        let doc = line("vouchers", &counts, 12.5, 1_700_000_000_000);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Voucherdeck");
        assert_eq!(directive["Dimensions"], json!([["Queue"]]));
        let declared: Vec<&str> = directive["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .filter_map(|m| m["Name"].as_str())
            .collect();
        for name in &declared {
            assert!(doc.get(*name).is_some(), "{name} has a value");
        }
        assert_eq!(doc["Queue"], "vouchers");
        assert_eq!(
            (
                doc["VouchersPersisted"].as_u64(),
                doc["VouchersFailed"].as_u64()
            ),
            (Some(9), Some(1))
        );
        assert_eq!(doc["ProcessingLatency"].as_array().map(Vec::len), Some(10));
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }

    #[test]
    fn a_large_batch_stays_within_the_values_limit() {
        let counts = ConsumerStats {
            received: 5000,
            ..ConsumerStats::default()
        };
        let doc = line("q", &counts, f64::NAN, 0);
        let values = doc["ProcessingLatency"].as_array().expect("values");
        assert_eq!(values.len(), VALUES_MAX);
        assert_eq!(values[0], 0.0);
    }
}
