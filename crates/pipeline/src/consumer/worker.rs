//! What one consumer's receive loops and batches work with.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config::ConsumerConfig;
use super::events::ConsumerEvent;
use super::shared::Shared;
use crate::services::Pipeline;
use voucherdeck_core::ports::QueueRef;

/// The consumer at work on one queue, shared by its receive loops.
pub(super) struct Worker {
    pub pipeline: Pipeline,
    pub queue: QueueRef,
    pub cfg: ConsumerConfig,
    pub shared: Arc<Shared>,
    pub events: Option<mpsc::Sender<ConsumerEvent>>,
    pub cancel: CancellationToken,
    /// Set once `until_empty` found the queue empty.
    pub drained: AtomicBool,
}
