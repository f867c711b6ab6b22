//! The services: producer, consumer, redrive, monitor, provision, DLQ triage and failures. Every front
//! end (dashboard, headless commands) calls these; they know nothing of terminals.

pub mod config;
pub mod consumer;
pub mod demo;
pub mod dlq;
pub mod monitor;
pub mod producer;
pub mod provision;
pub mod redrive;
pub mod status;

use std::sync::Arc;

use tokio::sync::OnceCell;

pub use crate::ports::ConsumerStats;
pub use config::PipelineConfig;
pub use consumer::{
    ConsumerConfig, ConsumerEvent, ConsumerHandle, ConsumerReport, ConsumerSnapshot,
};
pub use dlq::{DlqFailure, DlqMessage, PEEK_VISIBILITY};
pub use monitor::{DepthHistory, DepthSample, MonitorConfig, MonitorUpdate};
pub use producer::{GiftError, GiftOptions, GiftReceipt};
pub use provision::{ProvisionReport, Provisioned};
pub use redrive::{
    RedriveHandle, RedriveMethod, RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus,
};
pub use status::{QueueFigures, StatusReport};

use crate::backend::Backend;
use crate::domain::FailureRecord;
use crate::ports::{QueueRef, Result};
use producer::SenderLimiter;

struct Inner {
    backend: Backend,
    config: PipelineConfig,
    queue: OnceCell<QueueRef>,
    dlq: OnceCell<QueueRef>,
    limiter: SenderLimiter,
}

/// The services over one backend. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    pub fn new(backend: Backend, config: PipelineConfig) -> Self {
        let limiter = SenderLimiter::new(config.per_minute);
        Pipeline {
            inner: Arc::new(Inner {
                backend,
                config,
                queue: OnceCell::new(),
                dlq: OnceCell::new(),
                limiter,
            }),
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.inner.config
    }

    /// The source queue, resolved once.
    pub async fn queue(&self) -> Result<QueueRef> {
        let b = &self.inner.backend;
        self.inner
            .queue
            .get_or_try_init(|| b.queue.open(&b.names.queue))
            .await
            .cloned()
    }

    /// The dead-letter queue, resolved once.
    pub async fn dlq(&self) -> Result<QueueRef> {
        let b = &self.inner.backend;
        self.inner
            .dlq
            .get_or_try_init(|| b.queue.open(&b.names.dlq))
            .await
            .cloned()
    }

    /// Resolves any queue by name (redrive destinations).
    pub async fn open_queue(&self, name: &str) -> Result<QueueRef> {
        if name == self.inner.backend.names.queue {
            return self.queue().await;
        }
        if name == self.inner.backend.names.dlq {
            return self.dlq().await;
        }
        self.inner.backend.queue.open(name).await
    }

    /// The newest failure records from every worker.
    pub async fn recent_failures(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        self.inner.backend.failures.recent(limit).await
    }
}
