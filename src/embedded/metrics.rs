//! Embedded metrics: oldest-message age is exact (read from the engine), published figures are kept.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::queue::EmbeddedQueues;
use crate::domain::Timestamp;
use crate::ports::{AgeReading, ConsumerMetrics, Metrics, QueueRef, RequestCounter, Result};

/// The embedded metrics service.
#[derive(Debug, Clone)]
pub struct EmbeddedMetrics {
    queues: EmbeddedQueues,
    published: Arc<Mutex<ConsumerMetrics>>,
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

    /// Everything published so far, summed.
    pub fn published(&self) -> ConsumerMetrics {
        self.published.lock().map(|m| m.clone()).unwrap_or_default()
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

    async fn publish(&self, m: &ConsumerMetrics) -> Result<()> {
        self.requests.hit("cloudwatch:PutMetricData");
        let mut total = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        total.persisted += m.persisted;
        total.failed += m.failed;
        total.dead_lettered += m.dead_lettered;
        total.latencies_ms.extend_from_slice(&m.latencies_ms);
        let excess = total.latencies_ms.len().saturating_sub(10_000);
        total.latencies_ms.drain(..excess);
        Ok(())
    }
}
