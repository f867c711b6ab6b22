//! The copy redrive: receive from the DLQ, send to the destination, delete from the DLQ only what
//! the send accepted; at a bounded rate, only messages that were in the DLQ when it began, with
//! progress and cancel. Duplicates are possible; losses are not.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::request::{RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus};
use super::resolver::Resolver;
use crate::domain::Timestamp;
use crate::pipeline::dlq::attributes::without_diagnosis;
use crate::pipeline::dlq::walk::{PEEK_VISIBILITY, release};
use crate::pipeline::services::Pipeline;
use crate::ports::{
    BackendError, OutgoingMessage, QueueRef, Receipt, ReceiveRequest, ReceivedMessage,
    SQS_BATCH_MAX,
};

/// Default copy rate, messages per second.
const DEFAULT_RATE: u32 = 50;

/// Copies the chosen DLQ messages to `destination` (or each to its source), then releases what it
/// held back.
pub(super) async fn copy(
    p: &Pipeline,
    dlq: &QueueRef,
    req: &RedriveRequest,
    destination: Option<QueueRef>,
    tx: &watch::Sender<RedriveProgress>,
    cancel: &CancellationToken,
) -> Result<(), BackendError> {
    let total = match &req.scope {
        RedriveScope::Ids(ids) => Some(ids.iter().collect::<HashSet<_>>().len() as u64),
        RedriveScope::All => Some(p.backend().queue.stats(dlq).await?.visible),
        RedriveScope::Match(_) => None,
    };
    tx.send_modify(|progress| {
        progress.total = total;
        progress.status = RedriveStatus::Running;
    });
    let mut run = CopyRun {
        p,
        dlq,
        req,
        resolver: Resolver::new(p, dlq, destination),
        cutoff: Timestamp::now(),
        rate: f64::from(req.rate.unwrap_or(DEFAULT_RATE)),
        started: Instant::now(),
        total,
        seen: HashSet::new(),
        held: HashMap::new(),
        moved: 0,
        failed: 0,
        empty_in_a_row: 0,
    };
    let outcome = run.run(tx, cancel).await;
    let (moved, failed) = (run.moved, run.failed);
    release(p, dlq, &run.held.into_values().collect::<Vec<_>>()).await;
    let outcome = outcome?;
    tx.send_modify(|progress| {
        progress.moved = moved;
        progress.failed = failed;
        progress.status = outcome;
    });
    Ok(())
}

/// A copy redrive under way.
struct CopyRun<'a> {
    p: &'a Pipeline,
    dlq: &'a QueueRef,
    req: &'a RedriveRequest,
    resolver: Resolver<'a>,
    /// Messages sent to the DLQ after this are left alone.
    cutoff: Timestamp,
    /// Messages per second.
    rate: f64,
    started: Instant,
    total: Option<u64>,
    seen: HashSet<String>,
    /// Out of scope (or not movable): hidden until the end, newest receipt kept per message.
    held: HashMap<String, ReceivedMessage>,
    moved: u64,
    failed: u64,
    empty_in_a_row: u32,
}

impl CopyRun<'_> {
    /// Receives and copies until done or cancelled; how it ended.
    async fn run(
        &mut self,
        tx: &watch::Sender<RedriveProgress>,
        cancel: &CancellationToken,
    ) -> Result<RedriveStatus, BackendError> {
        loop {
            if let Some(end) = self.end(cancel) {
                return Ok(end);
            }
            if !self.pace(cancel).await {
                continue;
            }
            let max = (self.rate.ceil() as usize).clamp(1, SQS_BATCH_MAX);
            let wait = Duration::from_millis(if self.empty_in_a_row == 0 { 0 } else { 1000 });
            let req = ReceiveRequest {
                max,
                wait,
                visibility: Some(PEEK_VISIBILITY),
            };
            let got = self.p.backend().queue.receive(self.dlq, req).await?;
            self.take(got).await;
            let (moved, failed) = (self.moved, self.failed);
            tx.send_modify(|progress| {
                progress.moved = moved;
                progress.failed = failed;
            });
        }
    }

    /// How the run ends now, if it does: cancelled, every chosen message handled, or nothing new
    /// seen twice in a row.
    fn end(&self, cancel: &CancellationToken) -> Option<RedriveStatus> {
        if cancel.is_cancelled() {
            return Some(RedriveStatus::Cancelled);
        }
        let all_handled = self.total.is_some_and(|t| self.moved + self.failed >= t)
            && !matches!(self.req.scope, RedriveScope::All);
        (all_handled || self.empty_in_a_row >= 2).then_some(RedriveStatus::Completed)
    }

    /// Stays within the rate: never ahead of `rate` messages per elapsed second. False when
    /// cancelled while waiting.
    async fn pace(&self, cancel: &CancellationToken) -> bool {
        let ahead = Duration::from_secs_f64(self.moved as f64 / self.rate)
            .saturating_sub(self.started.elapsed());
        if ahead.is_zero() {
            return true;
        }
        tokio::select! {
            () = cancel.cancelled() => false,
            () = tokio::time::sleep(ahead) => true,
        }
    }

    /// Copies what was received and is chosen; holds the rest.
    async fn take(&mut self, got: Vec<ReceivedMessage>) {
        // Only messages not seen before count as progress: held ones that reappear (a long,
        // rate-limited run outlasts their visibility) must not keep the walk going forever.
        let fresh = got
            .iter()
            .filter(|m| !self.seen.contains(&m.message_id))
            .count();
        self.empty_in_a_row = if fresh == 0 {
            self.empty_in_a_row + 1
        } else {
            0
        };
        let mut batch: HashMap<QueueRef, Vec<ReceivedMessage>> = HashMap::new();
        for m in got {
            // Like the native task, move only what was in the DLQ when the redrive began:
            // a redriven message that fails again comes back as a new message, and moving it
            // again would loop for as long as a worker runs.
            let arrived_since = m.sent_at.is_some_and(|t| t > self.cutoff);
            if !self.seen.insert(m.message_id.clone())
                || !self.req.scope.includes(&m)
                || arrived_since
            {
                self.held.insert(m.message_id.clone(), m);
                continue;
            }
            match self.resolver.destination(&m).await {
                Ok(q) => batch.entry(q).or_default().push(m),
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "cannot redrive message");
                    self.failed += 1;
                    self.held.insert(m.message_id.clone(), m);
                }
            }
        }
        for (dest, msgs) in batch {
            let (ok, bad) = copy_batch(self.p, self.dlq, &dest, msgs).await;
            self.moved += ok;
            self.failed += bad.len() as u64;
            self.held
                .extend(bad.into_iter().map(|m| (m.message_id.clone(), m)));
        }
    }
}

/// Sends to the destination, then deletes from the DLQ only what was sent. Returns how many moved
/// and the messages that stay in the DLQ.
async fn copy_batch(
    p: &Pipeline,
    dlq: &QueueRef,
    dest: &QueueRef,
    msgs: Vec<ReceivedMessage>,
) -> (u64, Vec<ReceivedMessage>) {
    let entries: Vec<OutgoingMessage> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| OutgoingMessage {
            id: i.to_string(),
            body: m.body.clone(),
            // The failure diagnosis belongs to the DLQ copy; a fresh attempt starts clean.
            attributes: without_diagnosis(&m.attributes),
            delay: None,
            group: None,
        })
        .collect();
    let sent: HashSet<usize> = match p.backend().queue.send_batch(dest, &entries).await {
        Ok(out) => out
            .succeeded
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, queue = %dest.name, "redrive send failed; messages stay in the DLQ");
            HashSet::new()
        }
    };
    let (to_delete, stay): (Indexed, Indexed) = msgs
        .into_iter()
        .enumerate()
        .partition(|(i, _)| sent.contains(i));
    if !to_delete.is_empty() {
        let receipts: Vec<Receipt> = to_delete.iter().map(|(i, m)| m.receipt_entry(*i)).collect();
        if let Err(e) = p.backend().queue.delete_batch(dlq, &receipts).await {
            // Sent but not deleted: the copy exists; the DLQ copy comes back (a duplicate, not a loss).
            tracing::warn!(error = %e, "redriven messages not deleted from the DLQ");
        }
    }
    (
        to_delete.len() as u64,
        stay.into_iter().map(|(_, m)| m).collect(),
    )
}

type Indexed = Vec<(usize, ReceivedMessage)>;
