//! [`Metrics`] on CloudWatch: the SQS oldest-message age (only CloudWatch knows it) and the
//! consumer's and the intake's own figures in the `Voucherdeck` namespace, with a `Queue`
//! dimension naming the pipeline's queue (so each pipeline's alarms read their own processes).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit, StatisticSet,
};

use super::alarms::{NAMESPACE, QUEUE_DIMENSION};
use super::call::Call;
use crate::domain::Timestamp;
use crate::ports::{
    AgeReading, ConsumerStats, IntakeStats, Metrics, QueueRef, RequestCounter, Result,
};

/// How far back `oldest_age` looks: an idle queue can take up to 15 minutes to report again.
const WINDOW: Duration = Duration::from_mins(15);
const PERIOD_SECS: i32 = 60;
/// Most metric queries in one `GetMetricData` call.
const QUERIES_MAX: usize = 500;

/// CloudWatch behind the [`Metrics`] port.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
    requests: RequestCounter,
    /// The queue the consumer's figures are about.
    queue: String,
}

impl CloudWatchMetrics {
    pub fn new(client: Client, requests: RequestCounter, queue: String) -> Self {
        CloudWatchMetrics {
            client,
            requests,
            queue,
        }
    }

    /// Publishes `data` with one `PutMetricData`; nothing when it is empty.
    async fn put(&self, data: Vec<MetricDatum>) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let request = self
            .client
            .put_metric_data()
            .namespace(NAMESPACE)
            .set_metric_data(Some(data))
            .send();
        Call::new(&self.requests, "cloudwatch:PutMetricData", NAMESPACE)
            .send_maybe_unsupported(request)
            .await?;
        Ok(())
    }

    /// Readings for up to 500 queues with one call (more calls only if CloudWatch pages the answer).
    async fn oldest_age_chunk(
        &self,
        queues: &[QueueRef],
        start: DateTime,
        end: DateTime,
    ) -> Result<Vec<AgeReading>> {
        let queries: Vec<MetricDataQuery> = queues
            .iter()
            .enumerate()
            .map(|(i, q)| age_query(i, &q.name))
            .collect();
        let call = Call::new(
            &self.requests,
            "cloudwatch:GetMetricData",
            "AWS/SQS ApproximateAgeOfOldestMessage",
        );
        let mut newest: Vec<Option<(DateTime, f64)>> = vec![None; queues.len()];
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(start)
                .end_time(end)
                .scan_by(ScanBy::TimestampDescending)
                .set_next_token(token.take())
                .send();
            // Some AWS-compatible endpoints have no CloudWatch: `Unsupported`, said plainly above.
            let out = call.send_maybe_unsupported(request).await?;
            for result in out.metric_data_results() {
                let Some(i) = result
                    .id()
                    .and_then(query_index)
                    .filter(|&i| i < newest.len())
                else {
                    continue;
                };
                for (ts, value) in result.timestamps().iter().zip(result.values()) {
                    if newest[i].is_none_or(|(best, _)| ts.secs() > best.secs()) {
                        newest[i] = Some((*ts, *value));
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(newest.into_iter().map(reading).collect())
    }
}

fn age_query(i: usize, queue: &str) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace("AWS/SQS")
        .metric_name("ApproximateAgeOfOldestMessage")
        .dimensions(Dimension::builder().name("QueueName").value(queue).build())
        .build();
    MetricDataQuery::builder()
        .id(format!("q{i}"))
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(PERIOD_SECS)
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build()
}

fn query_index(id: &str) -> Option<usize> {
    id.strip_prefix('q')?.parse().ok()
}

fn reading(point: Option<(DateTime, f64)>) -> AgeReading {
    match point {
        Some((ts, secs)) if secs.is_finite() => AgeReading {
            age: Some(Duration::from_secs_f64(secs.max(0.0))),
            as_of: Some(
                ts.to_millis()
                    .map_or_else(|_| Timestamp(ts.secs() * 1000), Timestamp),
            ),
        },
        _ => AgeReading {
            age: None,
            as_of: None,
        },
    }
}

/// The dimension naming the pipeline's queue.
fn queue_dimension(queue: &str) -> Dimension {
    Dimension::builder()
        .name(QUEUE_DIMENSION)
        .value(queue)
        .build()
}

/// One count of `name` at `now`.
fn count(name: &str, v: u64, dimension: &Dimension, now: DateTime) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .dimensions(dimension.clone())
        .timestamp(now)
        .unit(StandardUnit::Count)
        .value(v as f64)
        .build()
}

/// The intake's data to publish; empty when it answered nothing.
fn intake_datums(m: &IntakeStats, queue: &str, now: DateTime) -> Vec<MetricDatum> {
    if m.requests == 0 {
        return Vec::new();
    }
    let dimension = queue_dimension(queue);
    vec![
        count("IntakeRequests", m.requests, &dimension, now),
        count("Intake5xx", m.server_errors, &dimension, now),
        count("Intake429", m.throttled, &dimension, now),
    ]
}

/// The data to publish; empty when there is nothing to say.
fn datums(m: &ConsumerStats, latencies_ms: &[f64], queue: &str, now: DateTime) -> Vec<MetricDatum> {
    let dimension = queue_dimension(queue);
    let latencies: Vec<f64> = latencies_ms
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .collect();
    if !m.has_outcomes() && latencies.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        count("VouchersPersisted", m.persisted, &dimension, now),
        count("VouchersFailed", m.failed, &dimension, now),
        count("VouchersDeadLettered", m.dead_lettered, &dimension, now),
    ];
    if !latencies.is_empty() {
        let stats = StatisticSet::builder()
            .sample_count(latencies.len() as f64)
            .sum(latencies.iter().sum())
            .minimum(latencies.iter().copied().fold(f64::INFINITY, f64::min))
            .maximum(latencies.iter().copied().fold(0.0, f64::max))
            .build();
        out.push(
            MetricDatum::builder()
                .metric_name("ProcessingLatency")
                .dimensions(dimension)
                .timestamp(now)
                .unit(StandardUnit::Milliseconds)
                .statistic_values(stats)
                .build(),
        );
    }
    out
}

#[async_trait]
impl Metrics for CloudWatchMetrics {
    async fn oldest_age(&self, queues: &[QueueRef]) -> Result<Vec<AgeReading>> {
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let now = SystemTime::now();
        let end = DateTime::from(now);
        let start = DateTime::from(now.checked_sub(WINDOW).unwrap_or(now));
        let mut out = Vec::with_capacity(queues.len());
        for chunk in queues.chunks(QUERIES_MAX) {
            out.extend(self.oldest_age_chunk(chunk, start, end).await?);
        }
        Ok(out)
    }

    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()> {
        let now = DateTime::from(SystemTime::now());
        self.put(datums(delta, latencies_ms, &self.queue, now))
            .await
    }

    async fn publish_intake(&self, delta: &IntakeStats) -> Result<()> {
        let now = DateTime::from(SystemTime::now());
        self.put(intake_datums(delta, &self.queue, now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_publish_when_idle() {
        let idle = ConsumerStats::default();
        assert!(datums(&idle, &[], "q", DateTime::from_secs(0)).is_empty());
        assert!(datums(&idle, &[f64::NAN], "q", DateTime::from_secs(0)).is_empty());
    }

    #[test]
    fn the_intake_publishes_its_three_counts_only_when_it_answered() {
        let at = DateTime::from_secs(0);
        assert!(intake_datums(&IntakeStats::default(), "q", at).is_empty());
        let m = IntakeStats {
            requests: 40,
            server_errors: 2,
            throttled: 9,
        };
        let d = intake_datums(&m, "orders", at);
        let named: Vec<(Option<&str>, Option<f64>)> =
            d.iter().map(|m| (m.metric_name(), m.value())).collect();
        assert_eq!(
            named,
            [
                (Some("IntakeRequests"), Some(40.0)),
                (Some("Intake5xx"), Some(2.0)),
                (Some("Intake429"), Some(9.0))
            ]
        );
        assert!(
            d.iter()
                .all(|m| m.dimensions().first().and_then(|d| d.value()) == Some("orders"))
        );
    }

    #[test]
    fn latencies_become_one_statistic_set() {
        let m = ConsumerStats {
            persisted: 3,
            ..ConsumerStats::default()
        };
        let d = datums(&m, &[5.0, 15.0, 10.0], "q", DateTime::from_secs(0));
        assert!(
            d.iter()
                .all(|m| m.dimensions().first().and_then(|d| d.value()) == Some("q"))
        );
        assert_eq!(d.len(), 4);
        let stats = d[3].statistic_values().expect("stats");
        assert_eq!(
            (
                stats.sample_count(),
                stats.sum(),
                stats.minimum(),
                stats.maximum()
            ),
            (Some(3.0), Some(30.0), Some(5.0), Some(15.0))
        );
    }

    #[test]
    fn readings_take_the_datapoint() {
        assert_eq!(
            reading(None),
            AgeReading {
                age: None,
                as_of: None
            }
        );
        let r = reading(Some((DateTime::from_secs(1_764_072_180), 42.0)));
        assert_eq!(r.age, Some(Duration::from_secs(42)));
        assert_eq!(r.as_of, Some(Timestamp(1_764_072_180_000)));
        assert_eq!(query_index("q12"), Some(12));
    }
}
