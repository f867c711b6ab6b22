//! Embedded metrics: oldest-message age is exact (read from the engine), published figures (the
//! consumer's and the intake's) are kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::queue::EmbeddedQueues;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::SERVERS_ACTIVE_WITHIN;
use voucherdeck_core::ports::{
    AgeReading, ConsumerStats, IntakeStats, Metrics, MinuteReading, QueueRef, RequestCounter,
    Result, ServersIntake,
};

/// Everything published so far.
#[derive(Debug, Default)]
struct Published {
    totals: ConsumerStats,
    /// The most recent latencies, at most [`LATENCIES_KEPT`].
    latencies_ms: Vec<f64>,
    /// Each publish with its time, the most recent [`PUBLISHES_KEPT`] (the alarms read them).
    deltas: VecDeque<(Instant, ConsumerStats)>,
    /// The intake's publishes, summed and each with its time.
    intake_totals: IntakeStats,
    intake: VecDeque<(Instant, IntakeStats)>,
}

/// Keeps `delta`, published now, dropping the oldest beyond [`PUBLISHES_KEPT`].
fn keep<T>(series: &mut VecDeque<(Instant, T)>, delta: T) {
    series.push_back((Instant::now(), delta));
    if series.len() > PUBLISHES_KEPT {
        series.pop_front();
    }
}

/// What `series` holds in `[from, to)`, summed by `add`; `None` when nothing was published.
fn sum_between<T: Default>(
    series: &VecDeque<(Instant, T)>,
    from: Instant,
    to: Instant,
    add: fn(&mut T, &T),
) -> Option<T> {
    let mut sum: Option<T> = None;
    for (_, delta) in series.iter().filter(|(at, _)| *at >= from && *at < to) {
        add(sum.get_or_insert_with(T::default), delta);
    }
    sum
}

const LATENCIES_KEPT: usize = 10_000;
const PUBLISHES_KEPT: usize = 10_000;

/// The embedded metrics service.
#[derive(Debug, Clone)]
pub struct EmbeddedMetrics {
    queues: EmbeddedQueues,
    published: Arc<Mutex<Published>>,
    requests: RequestCounter,
    /// When it started: nothing was published before.
    created: Instant,
}

impl EmbeddedMetrics {
    pub fn new(queues: EmbeddedQueues, requests: RequestCounter) -> Self {
        EmbeddedMetrics {
            queues,
            published: Arc::default(),
            requests,
            created: Instant::now(),
        }
    }

    /// Every count published so far, summed.
    pub fn published(&self) -> ConsumerStats {
        self.published.lock().map(|m| m.totals).unwrap_or_default()
    }

    /// What was published in `[from, to)`, summed; `None` when nothing was.
    pub fn published_between(&self, from: Instant, to: Instant) -> Option<ConsumerStats> {
        let published = self.published.lock().ok()?;
        sum_between(&published.deltas, from, to, ConsumerStats::add)
    }

    /// What the intake published in `[from, to)`, summed; `None` when it published nothing.
    pub fn intake_published_between(&self, from: Instant, to: Instant) -> Option<IntakeStats> {
        let published = self.published.lock().ok()?;
        sum_between(&published.intake, from, to, IntakeStats::add)
    }

    /// Every count the intake published so far, summed.
    pub fn intake_published(&self) -> IntakeStats {
        self.published
            .lock()
            .map(|m| m.intake_totals)
            .unwrap_or_default()
    }

    /// The latencies published, the most recent 10 000.
    pub fn published_latencies(&self) -> Vec<f64> {
        self.published
            .lock()
            .map(|m| m.latencies_ms.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Metrics for EmbeddedMetrics {
    async fn oldest_age(&self, queues: &[QueueRef]) -> Result<Vec<AgeReading>> {
        self.requests.hit("cloudwatch:GetMetricData");
        let now = Timestamp::now();
        Ok(queues
            .iter()
            .map(|q| {
                let age = self.queues.oldest_age(&q.name);
                AgeReading {
                    age,
                    as_of: age.map(|_| now),
                }
            })
            .collect())
    }

    async fn read_minute(&self, queues: &[QueueRef]) -> Result<MinuteReading> {
        let ages = self.oldest_age(queues).await?;
        let now = Instant::now();
        let since = |d| now.checked_sub(d).unwrap_or(self.created);
        let last_minute = self.intake_published_between(since(Duration::from_mins(1)), now);
        Ok(MinuteReading {
            ages,
            servers: ServersIntake {
                last_minute,
                as_of: last_minute.map(|_| Timestamp::now()),
                active_last_hour: self
                    .intake_published_between(since(SERVERS_ACTIVE_WITHIN), now)
                    .is_some(),
            },
        })
    }

    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()> {
        self.requests.hit("cloudwatch:PutMetricData");
        let mut total = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        total.totals.add(delta);
        keep(&mut total.deltas, *delta);
        total.latencies_ms.extend_from_slice(latencies_ms);
        let excess = total.latencies_ms.len().saturating_sub(LATENCIES_KEPT);
        total.latencies_ms.drain(..excess);
        Ok(())
    }

    async fn publish_intake(&self, delta: &IntakeStats) -> Result<()> {
        self.requests.hit("cloudwatch:PutMetricData");
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        published.intake_totals.add(delta);
        keep(&mut published.intake, *delta);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_minute_read_sums_what_the_intake_published() {
        let requests = RequestCounter::default();
        let m = EmbeddedMetrics::new(EmbeddedQueues::new(requests.clone()), requests.clone());
        let q = QueueRef {
            name: "q".into(),
            url: "q".into(),
            arn: "q".into(),
        };
        let quiet = m.read_minute(std::slice::from_ref(&q)).await.expect("read");
        assert_eq!(quiet.ages.len(), 1);
        assert_eq!(quiet.servers, ServersIntake::default());

        for (requests, server_errors, throttled) in [(40, 2, 9), (10, 0, 1)] {
            let delta = IntakeStats {
                requests,
                server_errors,
                throttled,
                audit_lost: 0,
            };
            m.publish_intake(&delta).await.expect("publish");
        }
        let before = requests.by_op().get("cloudwatch:GetMetricData").copied();
        let read = m.read_minute(&[q]).await.expect("read");
        let after = requests.by_op().get("cloudwatch:GetMetricData").copied();
        assert_eq!(after.unwrap_or(0) - before.unwrap_or(0), 1, "one read");
        let expected = IntakeStats {
            requests: 50,
            server_errors: 2,
            throttled: 10,
            audit_lost: 0,
        };
        assert_eq!(read.servers.last_minute, Some(expected));
        assert!(read.servers.active_last_hour);
        assert!(read.servers.as_of.is_some());
    }
}
