//! What the producer keeps between gifts: the burst limiter, the daily-quota units this process
//! leased, and the coalesced writers (sends, index rows, audit entries), each started on first use.

use std::sync::OnceLock;

use tokio::sync::{OnceCell, oneshot};
use tokio_util::task::TaskTracker;

use super::error::GiftError;
use super::key_turns::KeyTurns;
use super::quota::QuotaLeases;
use crate::coalesce::Coalescer;
use crate::limiter::SenderLimiter;
use voucherdeck_core::domain::AuditEntry;
use voucherdeck_core::ports::{Accepted, OutgoingMessage};

/// A voucher to index, and who waits for it.
pub(crate) type IndexJob = (Accepted, oneshot::Sender<()>);

/// One message to send and where its outcome goes.
#[derive(Debug)]
pub(crate) struct SendJob {
    pub(super) message: OutgoingMessage,
    pub(super) reply: oneshot::Sender<Result<(), GiftError>>,
}

/// The producer's state, held by the pipeline.
#[derive(Default)]
pub(crate) struct Producer {
    pub(super) limiter: SenderLimiter,
    pub(super) quota: QuotaLeases,
    pub(super) sends: OnceCell<Coalescer<SendJob>>,
    pub(super) accepted: OnceLock<Coalescer<IndexJob>>,
    pub(super) audit: OnceLock<Coalescer<AuditEntry>>,
    /// The gifts being worked on, each on its own task (a gift outlives a caller that stops
    /// waiting; a stop waits for them).
    pub(super) gifts: TaskTracker,
    /// The idempotency keys whose request is in flight in this process.
    pub(super) key_turns: KeyTurns,
}
