//! The services over one backend: the [`Pipeline`] handle, its settings, and the queues it
//! resolves once. Each service adds its calls in its own module (see the list in `pipeline`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::audit_sink::{AuditSink, AuditTiming};
use super::config::PipelineConfig;
use super::intake::IntakeMeter;
use super::keys::cache::KeyCache;
use super::producer::state::Producer;
use voucherdeck_core::backend::Backend;
use voucherdeck_core::domain::QueueName;
use voucherdeck_core::domain::limits::MESSAGE_SIZE_DEFAULT;
use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::BackendError;
use voucherdeck_core::ports::{QueueRef, Result};

/// The resources every service shares (the backend, the settings, the queues resolved once, who
/// the pipeline acts as), and each service's own state, which only that service's module reads.
struct Inner {
    backend: Backend,
    config: PipelineConfig,
    queue: OnceCell<QueueRef>,
    dlq: OnceCell<QueueRef>,
    actor: OnceCell<String>,
    producer: Producer,
    keys: KeyCache,
    intake: IntakeMeter,
    /// Where audit entries are written (retrying; losses counted on `intake`).
    audit: AuditSink,
    /// The DLQ's MaximumMessageSize, read once.
    dlq_message_size: OnceCell<usize>,
    /// Fallbacks already said (each is said once per process).
    said: Mutex<HashSet<&'static str>>,
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
        Pipeline::with_audit_timing(backend, config, AuditTiming::default())
    }

    /// A pipeline whose audit writes retry and flush on `timing` (tests shorten it).
    pub(crate) fn with_audit_timing(
        backend: Backend,
        config: PipelineConfig,
        timing: AuditTiming,
    ) -> Self {
        let intake = IntakeMeter::default();
        let audit = AuditSink::new(
            backend.audit.clone(),
            config.audit_file.clone(),
            intake.clone(),
            timing,
        );
        Pipeline {
            inner: Arc::new(Inner {
                backend,
                config,
                queue: OnceCell::new(),
                dlq: OnceCell::new(),
                actor: OnceCell::new(),
                producer: Producer::default(),
                keys: KeyCache::default(),
                intake,
                audit,
                dlq_message_size: OnceCell::new(),
                said: Mutex::default(),
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
        self.resolve_once(&self.inner.queue, &self.inner.backend.names.queue)
            .await
    }

    /// The dead-letter queue, resolved once.
    pub async fn dlq(&self) -> Result<QueueRef> {
        self.resolve_once(&self.inner.dlq, &self.inner.backend.names.dlq)
            .await
    }

    /// The queue `name`, opened on first use and kept in `cell`.
    async fn resolve_once(&self, cell: &OnceCell<QueueRef>, name: &str) -> Result<QueueRef> {
        let queues = &self.inner.backend.queue;
        cell.get_or_try_init(|| queues.open(name)).await.cloned()
    }

    /// Resolves any queue by name (redrive destinations).
    pub async fn open_queue(&self, name: &str) -> Result<QueueRef> {
        QueueName::parse(name).map_err(|e| BackendError::Invalid(e.to_string()))?;
        if name == self.inner.backend.names.queue {
            return self.queue().await;
        }
        if name == self.inner.backend.names.dlq {
            return self.dlq().await;
        }
        self.inner.backend.queue.open(name).await
    }

    /// The largest message the DLQ accepts, as its settings say (read once); SQS's old default
    /// when they cannot be read, which is never larger than what the DLQ accepts.
    pub(super) async fn dlq_message_size(&self) -> usize {
        let read = self
            .inner
            .dlq_message_size
            .get_or_try_init(|| async {
                let dlq = self.dlq().await?;
                let settings = self.inner.backend.queue.settings(&dlq).await?;
                Ok::<_, BackendError>(settings.max_message_size.unwrap_or(MESSAGE_SIZE_DEFAULT))
            })
            .await;
        read.copied().unwrap_or(MESSAGE_SIZE_DEFAULT)
    }

    /// Says a fallback once per process (an endpoint without an optional operation): a warning in
    /// the log the first time, nothing after. Returns whether it was said now.
    pub(crate) fn say_once(&self, fallback: &'static str, text: &str) -> bool {
        let first = self
            .inner
            .said
            .lock()
            .is_ok_and(|mut said| said.insert(fallback));
        if first {
            tracing::warn!(fallback, "{text}");
        }
        first
    }

    /// Who this pipeline acts as, once known (see `actor`).
    pub(super) fn actor_cell(&self) -> &OnceCell<String> {
        &self.inner.actor
    }

    /// The producer's state (limiter, leased quota, coalesced writers).
    pub(super) fn producer(&self) -> &Producer {
        &self.inner.producer
    }

    /// What the intake (HTTP API) did, for `/metrics` and the dashboard.
    pub fn intake(&self) -> &IntakeMeter {
        &self.inner.intake
    }

    /// Where audit entries are written.
    pub(crate) fn audit_sink(&self) -> &AuditSink {
        &self.inner.audit
    }

    /// API keys read recently.
    pub(super) fn key_cache(&self) -> &KeyCache {
        &self.inner.keys
    }

    /// The newest failure records from every worker.
    pub async fn recent_failures(&self, limit: usize) -> Result<Vec<FailureRecord>> {
        self.inner.backend.failures.recent(limit).await
    }

    /// Up to `limit` failure records stamped at or after `from`, newest first.
    pub async fn failures_since(
        &self,
        from: Timestamp,
        limit: usize,
    ) -> Result<Vec<FailureRecord>> {
        self.inner.backend.failures.since(from, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::backend::Names;
    use voucherdeck_embedded::Embedded;

    #[tokio::test]
    async fn a_fallback_is_said_once() {
        let p = Pipeline::new(
            Embedded::new(Names::default()).backend,
            PipelineConfig::default(),
        );
        assert!(p.say_once("CloudWatch", "no CloudWatch here"));
        assert!(!p.say_once("CloudWatch", "no CloudWatch here"));
        assert!(p.say_once("ListMessageMoveTasks", "no move tasks here"));
    }
}
