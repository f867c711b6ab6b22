//! Embedded metrics: oldest-message age is exact (read from the engine), published figures are kept.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::queue::EmbeddedQueues;
use crate::domain::Timestamp;
use crate::ports::{AgeReading, ConsumerStats, Metrics, QueueRef, RequestCounter, Result};

/// Everything published so far.
#[derive(Debug, Default)]
struct Published {
    totals: ConsumerStats,
    /// The most recent latencies, at most [`LATENCIES_KEPT`].
    latencies_ms: Vec<f64>,
}

const LATENCIES_KEPT: usize = 10_000;

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
        total.latencies_ms.extend_from_slice(latencies_ms);
        let excess = total.latencies_ms.len().saturating_sub(LATENCIES_KEPT);
        total.latencies_ms.drain(..excess);
        Ok(())
    }
}
