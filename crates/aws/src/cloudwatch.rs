//! [`Metrics`] on CloudWatch: the SQS oldest-message age (only CloudWatch knows it) and the
//! consumer's and the intake's own figures in the `Voucherdeck` namespace, with a `Queue`
//! dimension naming the pipeline's queue (so each pipeline's alarms read their own processes).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, MetricDataQuery, MetricDatum, ScanBy, StandardUnit, StatisticSet,
};

use super::alarms::{NAMESPACE, QUEUE_DIMENSION};
use super::call::Call;
use super::metric_queries::{
    INTAKE_METRICS, Points, age_query, reading, secs_before, servers_intake, sum_query,
};
use voucherdeck_core::domain::limits::{SERVERS_ACTIVE_WITHIN, SERVERS_LAST_MINUTE};
use voucherdeck_core::ports::{
    AgeReading, ConsumerStats, IntakeStats, METRIC_DEAD_LETTERED, METRIC_FAILED, METRIC_LATENCY,
    METRIC_PERSISTED, Metrics, MinuteReading, QueueRef, RequestCounter, Result, ServersIntake,
};

/// How far back `oldest_age` looks: an idle queue can take up to 15 minutes to report again.
const WINDOW: Duration = Duration::from_mins(15);
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

    /// Publishes `data` with one `PutMetricData`; nothing when it is empty. Shared by `publish` and
    /// `publish_intake`, which differ only in the data.
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

    /// The datapoints of `queries` (by query id) with one `GetMetricData` call (more only if
    /// CloudWatch pages the answer).
    async fn fetch(
        &self,
        queries: Vec<MetricDataQuery>,
        start: DateTime,
        end: DateTime,
    ) -> Result<Points> {
        let call = Call::new(
            &self.requests,
            "cloudwatch:GetMetricData",
            "AWS/SQS ApproximateAgeOfOldestMessage",
        );
        let request = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(start)
            .end_time(end)
            .scan_by(ScanBy::TimestampDescending)
            .into_paginator()
            .send();
        // Some AWS-compatible endpoints have no CloudWatch: `Unsupported`, said plainly above.
        let mut pages = call.pages_maybe_unsupported(request);
        let mut points = Points::new();
        while let Some(page) = pages.next().await? {
            for result in page.metric_data_results() {
                let Some(id) = result.id() else { continue };
                let series = points.entry(id.to_string()).or_default();
                series.extend(
                    result
                        .timestamps()
                        .iter()
                        .copied()
                        .zip(result.values().iter().copied()),
                );
            }
        }
        Ok(points)
    }

    /// Ages for up to 500 queues (and, with `servers`, the intake's figures) with one call.
    async fn read_chunk(
        &self,
        queues: &[QueueRef],
        servers: bool,
        now: SystemTime,
    ) -> Result<(Vec<AgeReading>, ServersIntake)> {
        let mut queries: Vec<MetricDataQuery> = queues
            .iter()
            .enumerate()
            .map(|(i, q)| age_query(i, &q.name))
            .collect();
        let window = if servers {
            queries.extend(
                INTAKE_METRICS
                    .iter()
                    .map(|(id, name)| sum_query(id, name, &self.queue)),
            );
            WINDOW.max(SERVERS_ACTIVE_WITHIN)
        } else {
            WINDOW
        };
        // Whole minutes, the end after now: each datapoint is its calendar minute, the newest one
        // included (CloudWatch rounds the start down; some endpoints bucket from the start as given).
        let end_secs = (DateTime::from(now).secs() / 60 + 1) * 60;
        let end = DateTime::from_secs(end_secs);
        let start = DateTime::from_secs(end_secs - window.as_secs().cast_signed());
        let points = self.fetch(queries, start, end).await?;
        let age_since = secs_before(now, WINDOW);
        let ages = (0..queues.len())
            .map(|i| {
                let newest = points
                    .get(&format!("q{i}"))
                    .into_iter()
                    .flatten()
                    .filter(|(ts, _)| ts.secs() >= age_since)
                    .max_by_key(|(ts, _)| ts.secs());
                reading(newest.copied())
            })
            .collect();
        let servers = if servers {
            servers_intake(&points, secs_before(now, SERVERS_LAST_MINUTE))
        } else {
            ServersIntake::default()
        };
        Ok((ages, servers))
    }

    /// The ages of `queues` and, with `servers`, the intake's figures, at most 500 queries a call.
    /// Shared by `oldest_age` (without the intake's figures) and `read_minute` (with them).
    async fn read(&self, queues: &[QueueRef], servers: bool) -> Result<MinuteReading> {
        let now = SystemTime::now();
        let mut out = MinuteReading {
            ages: Vec::with_capacity(queues.len()),
            servers: ServersIntake::default(),
        };
        // The intake's queries ride with the first chunk.
        let chunk_max = QUERIES_MAX - INTAKE_METRICS.len();
        let mut chunks: Vec<&[QueueRef]> = queues.chunks(chunk_max).collect();
        if chunks.is_empty() && servers {
            chunks.push(&[]);
        }
        for (n, chunk) in chunks.into_iter().enumerate() {
            let (ages, s) = self.read_chunk(chunk, servers && n == 0, now).await?;
            out.ages.extend(ages);
            if servers && n == 0 {
                out.servers = s;
            }
        }
        Ok(out)
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
    if m.is_empty() {
        return Vec::new();
    }
    let dimension = queue_dimension(queue);
    vec![
        count("IntakeRequests", m.requests, &dimension, now),
        count("Intake5xx", m.server_errors, &dimension, now),
        count("Intake429", m.throttled, &dimension, now),
        count("AuditEntriesLost", m.audit_lost, &dimension, now),
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
        count(METRIC_PERSISTED, m.persisted, &dimension, now),
        count(METRIC_FAILED, m.failed, &dimension, now),
        count(METRIC_DEAD_LETTERED, m.dead_lettered, &dimension, now),
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
                .metric_name(METRIC_LATENCY)
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
        Ok(self.read(queues, false).await?.ages)
    }

    async fn read_minute(&self, queues: &[QueueRef]) -> Result<MinuteReading> {
        self.read(queues, true).await
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
    fn the_intake_publishes_its_counts_only_when_it_has_something_to_say() {
        let at = DateTime::from_secs(0);
        assert!(intake_datums(&IntakeStats::default(), "q", at).is_empty());
        let m = IntakeStats {
            requests: 40,
            server_errors: 2,
            throttled: 9,
            audit_lost: 3,
        };
        let d = intake_datums(&m, "orders", at);
        let named: Vec<(Option<&str>, Option<f64>)> =
            d.iter().map(|m| (m.metric_name(), m.value())).collect();
        assert_eq!(
            named,
            [
                (Some("IntakeRequests"), Some(40.0)),
                (Some("Intake5xx"), Some(2.0)),
                (Some("Intake429"), Some(9.0)),
                (Some("AuditEntriesLost"), Some(3.0))
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
}
