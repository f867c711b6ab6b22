//! Embedded metrics: oldest-message age is exact (read from the engine), published figures are kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::time::Instant;

use super::queue::EmbeddedQueues;
use crate::domain::Timestamp;
use crate::ports::{AgeReading, ConsumerStats, Metrics, QueueRef, RequestCounter, Result};

/// Everything published so far.
#[derive(Debug, Default)]
struct Published {
    totals: ConsumerStats,
    /// The most recent latencies, at most [`LATENCIES_KEPT`].
    latencies_ms: Vec<f64>,
    /// Each publish with its time, the most recent [`PUBLISHES_KEPT`] (the alarms read them).
    deltas: VecDeque<(Instant, ConsumerStats)>,
}

const LATENCIES_KEPT: usize = 10_000;
const PUBLISHES_KEPT: usize = 10_000;

/// The embedded metrics service.
#[derive(Debug, Clone)]
pub struct EmbeddedMetrics {
    queues: EmbeddedQueues,
    published: Arc<Mutex<Published>>,
    requests: RequestCounter,
}

impl EmbeddedMetrics {
    pub fn new(queues: EmbeddedQueues, requests: RequestCounter) -> Self {
        EmbeddedMetrics {
            queues,
            published: Arc::default(),
            requests,
        }
    }

    /// Every count published so far, summed.
    pub fn published(&self) -> ConsumerStats {
        self.published.lock().map(|m| m.totals).unwrap_or_default()
    }

    /// What was published in `[from, to)`, summed; `None` when nothing was.
    pub fn published_between(&self, from: Instant, to: Instant) -> Option<ConsumerStats> {
        let published = self.published.lock().ok()?;
        let mut sum: Option<ConsumerStats> = None;
        for (_, delta) in published
            .deltas
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
        {
            sum.get_or_insert_with(ConsumerStats::default).add(delta);
        }
        sum
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

    async fn publish(&self, delta: &ConsumerStats, latencies_ms: &[f64]) -> Result<()> {
        self.requests.hit("cloudwatch:PutMetricData");
        let mut total = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        total.totals.add(delta);
        total.deltas.push_back((Instant::now(), *delta));
        if total.deltas.len() > PUBLISHES_KEPT {
            total.deltas.pop_front();
        }
        total.latencies_ms.extend_from_slice(latencies_ms);
        let excess = total.latencies_ms.len().saturating_sub(LATENCIES_KEPT);
        total.latencies_ms.drain(..excess);
        Ok(())
    }
}
