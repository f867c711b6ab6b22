//! Sending accepted vouchers: every gift joins a coalesced `SendMessageBatch` (up to 10 entries,
//! waiting at most `COALESCE_WAIT` for company); entries that fail for the service's reasons are
//! retried alone with backoff, and each caller gets its own outcome. Accepted vouchers are indexed
//! and gifts audited through coalesced writers too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::error::GiftError;
use super::state::{IndexJob, SendJob};
use crate::coalesce::Coalescer;
use crate::ordering::{SENDER, voucher_ids};
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::COALESCE_WAIT;
use voucherdeck_core::domain::{AuditEntry, Voucher, encode};
use voucherdeck_core::ports::{
    Accepted, BackendError, DYNAMO_BATCH_MAX, OutgoingMessage, Queue, QueueRef, SQS_BATCH_MAX,
    VoucherStore,
};

/// Attempts for a batch's failed entries before giving up on them.
const SEND_ATTEMPTS: u32 = 4;
/// `SendMessageBatch` calls in flight at once. Few: while they are out, the next gifts gather
/// into full batches (fewer requests per gift when the queue is slow).
const SEND_PARALLEL: usize = 2;
/// Index writes in flight at once (the same reasoning, 25 rows a write), and how long a row
/// waits for company (it is on the request's path: a few milliseconds).
const INDEX_PARALLEL: usize = 1;
const INDEX_LINGER: Duration = Duration::from_millis(5);
/// Tries of an index write (50, 100, 200, 400, 800 ms apart at most).
const INDEX_ATTEMPTS: u32 = 5;
/// How long audit entries wait to fill a write of 25 (they are flushed on a clean stop).
const AUDIT_LINGER: Duration = Duration::from_secs(1);

/// The queue message of a voucher: its sender as an attribute, its message group derived from
/// the sender (always a valid group id), and its id as the deduplication id (on a FIFO queue a
/// send retried within 5 minutes is not queued twice).
fn message_of(voucher: &Voucher) -> OutgoingMessage {
    let (group, dedup) = voucher_ids(&voucher.sender, voucher.voucher_id);
    OutgoingMessage {
        id: String::new(),
        body: encode(voucher),
        attributes: BTreeMap::from([
            ("voucherdeck.kind".to_string(), "voucher".to_string()),
            (SENDER.to_string(), voucher.sender.clone()),
        ]),
        delay: None,
        group: Some(group),
        dedup: Some(dedup),
    }
}

impl Pipeline {
    /// Queues one voucher; returns once SQS has it (or it finally failed, saying whether it may
    /// be queued all the same).
    pub(super) async fn send_voucher(&self, voucher: &Voucher) -> Result<(), GiftError> {
        let sends = self.sends().await.map_err(GiftError::Backend)?;
        let (reply, outcome) = oneshot::channel();
        let job = SendJob {
            message: message_of(voucher),
            reply,
        };
        if !sends.push(job).await {
            return Err(GiftError::Backend(BackendError::Other(
                "the sender has stopped".into(),
            )));
        }
        outcome.await.unwrap_or_else(|_| Err(lost_entry()))
    }

    /// The coalesced sender, started on first use.
    async fn sends(&self) -> Result<&Coalescer<SendJob>, BackendError> {
        let queue = self.queue().await?;
        let port = self.backend().queue.clone();
        let meter = self.intake().clone();
        Ok(self
            .producer()
            .sends
            .get_or_init(|| async move {
                let queue = Arc::new(queue);
                Coalescer::spawn(SQS_BATCH_MAX, COALESCE_WAIT, SEND_PARALLEL, move |jobs| {
                    meter.batch_sent(jobs.len());
                    send_jobs(port.clone(), queue.clone(), jobs)
                })
            })
            .await)
    }

    /// Records accepted vouchers in the index (coalesced with other gifts' records, 25 per
    /// write) and waits until it is written, so a status read right after the answer finds them.
    /// A failed write is logged: the voucher is queued all the same.
    pub(super) async fn index_accepted(&self, accepted: Vec<Accepted>) {
        let writer = self.accepted_writer();
        let mut waits = Vec::with_capacity(accepted.len());
        for a in accepted {
            let (done, wait) = oneshot::channel();
            if writer.push((a, done)).await {
                waits.push(wait);
            }
        }
        futures::future::join_all(waits).await;
    }

    /// Audits in the background, batched (25 entries per write).
    pub(crate) async fn audit_later(&self, entries: Vec<AuditEntry>) {
        let writer = self.audit_writer();
        for e in entries {
            writer.push(e).await;
        }
    }

    fn accepted_writer(&self) -> &Coalescer<IndexJob> {
        self.producer().accepted.get_or_init(|| {
            let store = self.backend().store.clone();
            Coalescer::spawn(
                DYNAMO_BATCH_MAX,
                INDEX_LINGER,
                INDEX_PARALLEL,
                move |jobs: Vec<IndexJob>| {
                    let store = store.clone();
                    async move {
                        let (batch, done): (Vec<Accepted>, Vec<_>) = jobs.into_iter().unzip();
                        index_with_retry(store.as_ref(), &batch).await;
                        for d in done {
                            let _ = d.send(());
                        }
                    }
                },
            )
        })
    }

    fn audit_writer(&self) -> &Coalescer<AuditEntry> {
        self.producer().audit.get_or_init(|| {
            let sink = self.audit_sink().clone();
            Coalescer::spawn(
                DYNAMO_BATCH_MAX,
                AUDIT_LINGER,
                2,
                move |batch: Vec<AuditEntry>| {
                    let sink = sink.clone();
                    async move { sink.write(&batch).await }
                },
            )
        })
    }

    /// Waits for the gifts being worked on and the background writes (audit, index), and gives
    /// back unused leased quota: call before a server exits.
    pub async fn finish_producing(&self) {
        // Gifts still being worked on (their callers may have gone) finish first.
        let gifts = &self.producer().gifts;
        if !gifts.is_empty() {
            tracing::info!(
                gifts = gifts.len(),
                "waiting for the gifts being sent (their requests may be gone)"
            );
        }
        gifts.close();
        gifts.wait().await;
        gifts.reopen();
        if let Some(w) = self.producer().audit.get() {
            self.audit_sink().flush_within(w.flush()).await;
        }
        if let Some(w) = self.producer().accepted.get() {
            w.flush().await;
        }
        self.producer()
            .quota
            .return_all(self.backend().store.as_ref())
            .await;
    }
}

/// Writes index rows, retrying a failure the store may get over (throttling, a moment's outage)
/// with backoff for up to about 1.5 s: the gifts wait on it, and a row that is never written makes
/// a queued voucher read as unknown until it is persisted. A final failure is logged.
async fn index_with_retry(store: &dyn VoucherStore, batch: &[Accepted]) {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=INDEX_ATTEMPTS {
        match store.record_accepted(batch).await {
            Ok(()) => return,
            Err(e) if e.is_retryable() && attempt < INDEX_ATTEMPTS => {
                tokio::time::sleep(delay + Duration::from_millis(fastrand::u64(0..25))).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, count = batch.len(), attempt, "cannot index accepted vouchers");
                return;
            }
        }
    }
}

/// Sends one coalesced batch and answers each job.
async fn send_jobs(port: Arc<dyn Queue>, queue: Arc<QueueRef>, jobs: Vec<SendJob>) {
    let messages: Vec<OutgoingMessage> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| OutgoingMessage {
            id: i.to_string(),
            ..j.message.clone()
        })
        .collect();
    let mut outcome = send_with_retry(port.as_ref(), &queue, messages).await;
    for (i, job) in jobs.into_iter().enumerate() {
        let result = outcome
            .remove(&i.to_string())
            .unwrap_or_else(|| Err(lost_entry()));
        let _ = job.reply.send(result);
    }
}

/// An entry the batch did not answer for: it may have been sent.
fn lost_entry() -> GiftError {
    GiftError::Unknown(BackendError::Other("the batch lost this entry".into()))
}

/// Whether a failed call may have been carried out all the same: no answer came (a timeout, a
/// connection lost after the request went out) or the service failed inside (5xx).
fn may_have_applied(e: &BackendError) -> bool {
    matches!(
        e,
        BackendError::Timeout(_)
            | BackendError::Unreachable(_)
            | BackendError::Unavailable(_)
            | BackendError::Other(_)
    )
}

/// Sends a batch; entries that fail for the service's reasons are retried alone, with backoff.
/// An entry that finally failed is `Unknown` once any call it was in may have been carried out
/// (so a retried message may be queued), `Rejected` when SQS blamed the message itself.
async fn send_with_retry(
    port: &dyn Queue,
    queue: &QueueRef,
    mut pending: Vec<OutgoingMessage>,
) -> BTreeMap<String, Result<(), GiftError>> {
    let mut out = BTreeMap::new();
    let mut delay = Duration::from_millis(100);
    let mut uncertain = false;
    let failed = |e: BackendError, uncertain: bool| {
        if uncertain || may_have_applied(&e) {
            GiftError::Unknown(e)
        } else {
            GiftError::Backend(e)
        }
    };
    for attempt in 1..=SEND_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        match port.send_batch(queue, &pending).await {
            Ok(outcome) => {
                for id in outcome.succeeded {
                    out.insert(id, Ok(()));
                }
                let mut retry = Vec::new();
                for f in outcome.failed {
                    let why = format!("{}: {}", f.code, f.message);
                    if f.sender_fault {
                        out.insert(f.id, Err(GiftError::Rejected(why)));
                    } else if attempt == SEND_ATTEMPTS {
                        // SQS answered that this entry failed; only an earlier call may have sent it.
                        let e = BackendError::Unavailable(why);
                        out.insert(f.id, Err(failed(e, uncertain)));
                    } else if let Some(m) = pending.iter().find(|m| m.id == f.id) {
                        retry.push(m.clone());
                    }
                }
                pending = retry;
            }
            Err(e) if e.is_retryable() && attempt < SEND_ATTEMPTS => {
                uncertain |= may_have_applied(&e);
            }
            Err(e) => {
                let err = failed(e, uncertain);
                for m in &pending {
                    out.insert(m.id.clone(), Err(err.clone()));
                }
                pending.clear();
            }
        }
        if !pending.is_empty() {
            tokio::time::sleep(delay + Duration::from_millis(fastrand::u64(0..50))).await;
            delay *= 2;
        }
    }
    out
}
