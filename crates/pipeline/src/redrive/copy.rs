//! The copy redrive: receive from the DLQ, send to the destination, delete from the DLQ only what
//! the send accepted; at a bounded rate, only messages that were in the DLQ when it began (in the
//! DLQ's own clock), never one it sent back itself, with progress and cancel. Duplicates are
//! possible; losses are not. Memory is bounded: held messages are kept as receipts, not bodies.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::clock::QueueClock;
use super::request::{
    RedriveFailure, RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus,
};
use super::transfer::{copy_batch, pace};
use crate::dlq::DLQ_HOLD;
use crate::dlq::attributes::REDRIVE_RUN;
use crate::dlq::resolver::Resolver;
use crate::dlq::walk::release;
use crate::services::Pipeline;
use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::{
    BackendError, QueueRef, ReceiveRequest, ReceivedMessage, SQS_BATCH_MAX,
};

/// Default copy rate, messages per second.
const DEFAULT_RATE: u32 = 50;
/// Failure records read to tell why messages are in the DLQ.
const FAILURE_JOIN: usize = 5_000;

/// Copies the chosen DLQ messages to `destination` (or each to its source), then releases what it
/// held back.
pub(super) async fn copy(
    p: &Pipeline,
    dlq: &QueueRef,
    req: &RedriveRequest,
    destination: Option<QueueRef>,
    tx: &watch::Sender<RedriveProgress>,
    failures: &watch::Sender<Vec<RedriveFailure>>,
    cancel: &CancellationToken,
) -> Result<(), BackendError> {
    let total = match &req.scope {
        RedriveScope::Ids(ids) => Some(ids.iter().collect::<HashSet<_>>().len() as u64),
        RedriveScope::All => Some(p.backend().queue.stats(dlq).await?.visible),
        RedriveScope::Match(_) | RedriveScope::Filter(_) => None,
    };
    tx.send_modify(|progress| {
        progress.total = total;
        progress.status = RedriveStatus::Running;
    });
    let log = if req.scope.needs_reasons() {
        p.recent_failures(FAILURE_JOIN).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut run = CopyRun {
        p,
        dlq,
        req,
        log,
        resolver: Resolver::new(p, dlq, destination),
        clock: QueueClock::new(Timestamp::now()),
        run_id: Uuid::new_v4().simple().to_string(),
        rate: f64::from(req.rate.unwrap_or(DEFAULT_RATE)),
        started: Instant::now(),
        total,
        seen: HashSet::new(),
        held: HashMap::new(),
        moved: 0,
        failed: 0,
        failures: Vec::new(),
        hidden: 0,
        empty_in_a_row: 0,
        recounts: 0,
    };
    let outcome = run.run(tx, cancel).await;
    let (moved, failed) = (run.moved, run.failed);
    failures.send_replace(std::mem::take(&mut run.failures));
    release(p, dlq, run.held.values().map(String::as_str)).await;
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
    /// Why messages are in the DLQ, for a filter by kind or reason.
    log: Vec<FailureRecord>,
    resolver: Resolver<'a>,
    /// Messages SQS says were sent to the DLQ after the start are left alone.
    clock: QueueClock,
    /// Tags what this run sends back: should it fail again and return, it is not moved twice.
    run_id: String,
    /// Messages per second.
    rate: f64,
    started: Instant,
    total: Option<u64>,
    seen: HashSet<String>,
    /// Out of scope (or not movable): hidden until the end (or until there are too many), newest
    /// receipt kept per message id.
    held: HashMap<String, String>,
    moved: u64,
    failed: u64,
    /// Each message that could not be moved, and why.
    failures: Vec<RedriveFailure>,
    /// Passed over past the hold limit: no receipt kept, hidden until their hold runs out.
    hidden: u64,
    /// Receives in a row that returned nothing at all.
    empty_in_a_row: u32,
    /// Times the DLQ's visible count said messages were left after empty receives.
    recounts: u32,
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
                if end == RedriveStatus::Completed && self.visible_left().await {
                    continue;
                }
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
                // Held until the end: a walk through a large DLQ must not meet them again.
                visibility: Some(DLQ_HOLD),
            };
            let asked_at = Timestamp::now();
            let got = self.p.backend().queue.receive(self.dlq, req).await?;
            self.clock.observe(asked_at, &got);
            self.take(got).await;
            let (moved, failed) = (self.moved, self.failed);
            tx.send_modify(|progress| {
                progress.moved = moved;
                progress.failed = failed;
            });
        }
    }

    /// How the run ends now, if it does: cancelled, every chosen message handled, or two receives
    /// in a row returned nothing (everything visible was seen; receives that return only messages
    /// seen before do not end it: past the hold limit those come back, ahead of unseen ones).
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
        pace(self.moved, self.rate, self.started, cancel).await
    }

    /// Whether SQS still counts visible messages after the receives came back empty (a receive
    /// can miss some): then the walk goes on, up to three times.
    async fn visible_left(&mut self) -> bool {
        if self.recounts >= 3 {
            return false;
        }
        let visible = match self.p.backend().queue.stats(self.dlq).await {
            Ok(s) => s.visible,
            Err(e) => {
                tracing::warn!(error = %e, "cannot count what is left in the DLQ");
                0
            }
        };
        if visible == 0 {
            return false;
        }
        self.recounts += 1;
        self.empty_in_a_row = 0;
        true
    }

    /// Copies what was received and is chosen; holds the rest.
    async fn take(&mut self, got: Vec<ReceivedMessage>) {
        // Messages seen before that come back (a long, rate-limited run outlasts their hold) are
        // held again: hidden for another hold, so the walk always gets further.
        self.empty_in_a_row = if got.is_empty() {
            self.empty_in_a_row + 1
        } else {
            0
        };
        let mut batch: HashMap<QueueRef, Vec<ReceivedMessage>> = HashMap::new();
        for m in got {
            // Like the native task, move only what was in the DLQ when the redrive began, and
            // never what this run sent back: a redriven message that fails again comes back as a
            // new message, and moving it again would loop for as long as a worker runs.
            let returned = m.attributes.get(REDRIVE_RUN) == Some(&self.run_id);
            if !self.seen.insert(m.message_id.clone())
                || !self.req.scope.includes(&m, &self.log)
                || returned
                || self.clock.arrived_after_start(&m)
            {
                self.hold(m);
                continue;
            }
            match self.resolver.destination(&m).await {
                Ok(q) => batch.entry(q).or_default().push(m),
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "cannot redrive message");
                    self.fail(&m, e.to_string());
                    self.hold(m);
                }
            }
        }
        for (dest, msgs) in batch {
            let (ok, bad) = copy_batch(self.p, self.dlq, &dest, msgs, &self.run_id).await;
            self.moved += ok;
            for (m, why) in bad {
                self.fail(&m, why);
                self.hold(m);
            }
        }
    }

    /// Counts a message that stays in the DLQ, and says why.
    fn fail(&mut self, m: &ReceivedMessage, reason: String) {
        self.failed += 1;
        self.failures.push(RedriveFailure {
            message_id: m.message_id.clone(),
            reason,
        });
    }

    /// Keeps a message hidden until the end. Past the hold limit (`redrive_hold_max`) its
    /// receipt is not kept: it stays hidden until its hold runs out rather than coming back
    /// ahead of the messages not seen yet (and cannot be released at the end).
    fn hold(&mut self, m: ReceivedMessage) {
        let limit = self.p.config().redrive_hold_max.max(1);
        if self.held.len() >= limit && !self.held.contains_key(&m.message_id) {
            if self.hidden == 0 {
                tracing::info!(
                    limit,
                    "a copy redrive holds {limit} receipts; what it passes over further stays hidden until its hold runs out"
                );
            }
            self.hidden += 1;
            return;
        }
        self.held.insert(m.message_id, m.receipt);
    }
}
