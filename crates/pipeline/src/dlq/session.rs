//! A session over the whole DLQ, for paging, exporting, counting and acting on any message of it.
//!
//! SQS cannot page: a receive returns some visible messages and hides them. So a session receives
//! page after page and keeps what it received hidden (for [`DLQ_HOLD`], extended while it lives), so
//! that each further receive returns messages not seen yet; earlier pages are kept here, not asked
//! again. What it costs: one receive per 10 messages (a page of 100 is 10 requests), each raising
//! the message's receive count by one; every message seen stays invisible to everyone else until
//! the session releases it (one request per 10 messages) or the hold runs out. Actions on a loaded
//! message (delete, resend) use the session's own receipt, so they work on any page.
//!
//! Memory: a session keeps messages whole while their bodies fit in [`DLQ_BODY_BUDGET`]; past it, it
//! keeps ids, receipts and the diagnosis the filters read, not bodies (see `bodies`). Exports and
//! counts see every message whole as it is read ([`DlqSession::load_each`]) and keep none.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::bodies::{Bodies, DLQ_BODY_BUDGET};
use super::browse::DlqMessage;
use super::walk::{delete_messages, release};
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::is_fifo_name;
use voucherdeck_core::domain::{FailureRecord, OperatorNote};
use voucherdeck_core::ports::{
    BackendError, QueueRef, ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX,
    VisibilityChange,
};

/// How long a session hides what it has received (extended while it lives).
pub const DLQ_HOLD: Duration = Duration::from_mins(10);
/// Most messages one session holds: SQS allows about 120,000 in flight per queue.
pub const DLQ_SESSION_MAX: usize = 100_000;
/// Failure records read once per session to tell why messages are in the DLQ.
const FAILURE_JOIN: usize = 5_000;

/// How far a load has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlqProgress {
    /// Messages loaded in this session so far.
    pub loaded: usize,
    /// ApproximateNumberOfMessages when the session opened.
    pub approx_total: Option<u64>,
}

/// A session over the DLQ; [`DlqSession::release`] makes what it holds visible again (dropping it
/// without releasing leaves them hidden until the hold runs out).
#[derive(Debug)]
pub struct DlqSession {
    pub(super) pipeline: Pipeline,
    pub(super) dlq: QueueRef,
    /// What was received, in order; a message delivered twice keeps its newest receipt.
    pub(super) held: Vec<ReceivedMessage>,
    index: HashMap<String, usize>,
    /// Which held messages are whole, within the budget.
    bodies: Bodies,
    log: Vec<FailureRecord>,
    exhausted: bool,
    /// On a FIFO DLQ, the messages left visible when the read could go no further: SQS holds back
    /// the rest of a message group while the session holds some of it.
    held_back: u64,
    approx_total: Option<u64>,
    held_at: Instant,
}

impl Pipeline {
    /// Opens a session over the DLQ. Refused read-only: its receives raise receive counts.
    pub async fn open_dlq_session(&self) -> Result<DlqSession> {
        if self.config().read_only {
            return Err(BackendError::ReadOnly("peeking the DLQ"));
        }
        let dlq = self.dlq().await?;
        let approx_total = self
            .backend()
            .queue
            .stats(&dlq)
            .await
            .ok()
            .map(|s| s.visible);
        let log = self.recent_failures(FAILURE_JOIN).await.unwrap_or_default();
        Ok(DlqSession {
            pipeline: self.clone(),
            dlq,
            held: Vec::new(),
            index: HashMap::new(),
            bodies: Bodies::new(DLQ_BODY_BUDGET),
            log,
            exhausted: false,
            held_back: 0,
            approx_total,
            held_at: Instant::now(),
        })
    }
}

impl DlqSession {
    /// The pipeline the session reads.
    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The DLQ it reads.
    pub(crate) fn queue(&self) -> &QueueRef {
        &self.dlq
    }

    /// Keeps at most `bytes` of bodies from now on (0: none; an export or a count reads them
    /// once, as they come).
    #[must_use]
    pub fn with_body_budget(mut self, bytes: usize) -> DlqSession {
        self.bodies.set_budget(bytes);
        self
    }

    /// Keeps this message whole when it is read, however much is kept already (it is being
    /// looked for: to resend or redrive it).
    pub fn keep_body_of(&mut self, message_id: &str) {
        self.bodies.pin(message_id);
    }

    /// How many loaded messages are kept without their body (past the budget).
    pub fn bodies_dropped(&self) -> usize {
        self.bodies.dropped_count()
    }

    /// Whether every one of these loaded messages is kept whole.
    pub(crate) fn all_whole(&self, ids: &[String]) -> bool {
        ids.iter().all(|id| !self.bodies.dropped(id))
    }

    /// A loaded message kept whole (with its body), by id.
    pub(crate) fn whole(&self, id: &str) -> Option<&ReceivedMessage> {
        self.held(id)
            .filter(|m| !self.bodies.dropped(&m.message_id))
    }

    /// Takes these loaded messages out of the session, receipts and all (each once; ids not
    /// loaded are left out): whoever takes them acts on them, or releases them.
    pub(crate) fn take_held(&mut self, ids: &[String]) -> Vec<ReceivedMessage> {
        let mut seen = std::collections::HashSet::new();
        let taken: Vec<ReceivedMessage> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| self.held(id).cloned())
            .collect();
        let gone: Vec<String> = taken.iter().map(|m| m.message_id.clone()).collect();
        self.forget(&gone);
        taken
    }

    /// Messages loaded so far.
    pub fn loaded(&self) -> usize {
        self.held.len()
    }

    /// Whether every message of the DLQ has been loaded (nothing new came back twice in a row).
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// On a FIFO DLQ, how many messages the read could not reach: later messages of the groups
    /// it holds, which SQS delivers only once the earlier ones are deleted, moved or let go.
    pub fn held_back(&self) -> u64 {
        self.held_back
    }

    /// Whether the read saw every message of the DLQ: exhausted, and nothing held back.
    pub fn complete(&self) -> bool {
        self.exhausted && self.held_back == 0
    }

    /// ApproximateNumberOfMessages when the session opened.
    pub fn approx_total(&self) -> Option<u64> {
        self.approx_total
    }

    fn progress(&self) -> DlqProgress {
        DlqProgress {
            loaded: self.held.len(),
            approx_total: self.approx_total,
        }
    }

    /// Every loaded message, in the order received, with why it is in the DLQ.
    pub fn messages(&self) -> Vec<DlqMessage> {
        self.messages_from(0)
    }

    /// The loaded messages from the `start`th on (a message whose body was not kept says so).
    pub fn messages_from(&self, start: usize) -> Vec<DlqMessage> {
        self.held
            .get(start..)
            .unwrap_or_default()
            .iter()
            .map(|m| self.message(m.clone()))
            .collect()
    }

    pub(super) fn message(&self, m: ReceivedMessage) -> DlqMessage {
        let dropped = self.bodies.dropped(&m.message_id);
        let mut d = DlqMessage::from_received(m, &self.log);
        d.body_dropped = dropped;
        d
    }

    /// Loads up to `more` messages not seen yet (fewer when the DLQ has no more), holding them;
    /// calls `progress` after each receive. Returns the new ones (past the body budget, without
    /// their bodies).
    pub async fn load(
        &mut self,
        more: usize,
        progress: &mut (dyn FnMut(DlqProgress) + Send),
    ) -> Result<Vec<DlqMessage>> {
        let start = self.held.len();
        self.load_each(more, progress, &mut |_| true).await?;
        Ok(self.messages_from(start))
    }

    /// Loads like [`DlqSession::load`], showing `visit` each new message whole as it is received
    /// (before its body is let go past the budget); `visit` answering false stops the load after
    /// that page. Returns how many were new.
    pub async fn load_each(
        &mut self,
        more: usize,
        progress: &mut (dyn FnMut(DlqProgress) + Send),
        visit: &mut (dyn FnMut(&DlqMessage) -> bool + Send),
    ) -> Result<usize> {
        let start = self.held.len();
        let want = more.min(DLQ_SESSION_MAX.saturating_sub(start));
        let (mut empty_in_a_row, mut stop) = (0, false);
        while self.held.len() - start < want && !self.exhausted && !stop {
            // A long load (a large DLQ, a slow endpoint) outlasts the hold: what it read first
            // would come back, and receives that return only messages seen would end it early.
            self.keep_alive().await;
            let req = ReceiveRequest {
                max: SQS_BATCH_MAX.min(want - (self.held.len() - start)),
                wait: Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 }),
                visibility: Some(DLQ_HOLD),
            };
            let got = self
                .pipeline
                .backend()
                .queue
                .receive(&self.dlq, req)
                .await?;
            let fresh = self.take(got, &mut |m| {
                stop |= !visit(m);
            });
            empty_in_a_row = if fresh == 0 { empty_in_a_row + 1 } else { 0 };
            self.exhausted = empty_in_a_row >= 2;
            progress(self.progress());
        }
        self.held_back = if self.exhausted && is_fifo_name(&self.dlq.name) {
            let queue = &self.pipeline.backend().queue;
            queue.stats(&self.dlq).await.map_or(0, |s| s.visible)
        } else {
            0
        };
        Ok(self.held.len() - start)
    }

    /// Keeps received messages, the newest receipt of one seen again; returns how many were new.
    fn take(
        &mut self,
        got: Vec<ReceivedMessage>,
        visit: &mut (dyn FnMut(&DlqMessage) + Send),
    ) -> usize {
        let mut fresh = 0;
        for mut m in got {
            if let Some(&i) = self.index.get(&m.message_id) {
                self.bodies.readmit(&mut self.held[i], m);
            } else {
                visit(&DlqMessage::from_received(m.clone(), &self.log));
                self.bodies.admit(&mut m);
                self.index.insert(m.message_id.clone(), self.held.len());
                self.held.push(m);
                fresh += 1;
            }
        }
        fresh
    }

    /// Hides what the session holds for another [`DLQ_HOLD`] once half of it has passed.
    pub async fn keep_alive(&mut self) {
        if self.held_at.elapsed() < DLQ_HOLD / 2 {
            return;
        }
        for chunk in self.held.chunks(SQS_BATCH_MAX) {
            let changes: Vec<VisibilityChange> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| m.visibility_entry(i, DLQ_HOLD))
                .collect();
            let queue = &self.pipeline.backend().queue;
            if let Err(e) = queue.change_visibility_batch(&self.dlq, &changes).await {
                tracing::warn!(error = %e, "could not extend the hold on DLQ messages");
            }
        }
        self.held_at = Instant::now();
    }

    /// Lets go of the loaded messages whose bodies were not kept (visible again at once), so that
    /// the next load reads them again, whole, as new ones; returns how many.
    pub async fn reread_dropped(&mut self) -> usize {
        let dropped: Vec<&ReceivedMessage> = self
            .held
            .iter()
            .filter(|m| self.bodies.dropped(&m.message_id))
            .collect();
        if dropped.is_empty() {
            return 0;
        }
        let ids: Vec<String> = dropped.iter().map(|m| m.message_id.clone()).collect();
        release(
            &self.pipeline,
            &self.dlq,
            dropped.iter().map(|m| m.receipt.as_str()),
        )
        .await;
        self.forget(&ids);
        self.exhausted = false;
        ids.len()
    }

    /// Forgets a message that left the DLQ.
    pub(super) fn forget(&mut self, ids: &[String]) {
        let gone: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        for m in self
            .held
            .iter()
            .filter(|m| gone.contains(m.message_id.as_str()))
        {
            self.bodies.forget(m);
        }
        self.held.retain(|m| !gone.contains(m.message_id.as_str()));
        self.index = self
            .held
            .iter()
            .enumerate()
            .map(|(i, m)| (m.message_id.clone(), i))
            .collect();
    }

    /// A loaded message by id.
    pub(super) fn held(&self, id: &str) -> Option<&ReceivedMessage> {
        self.index.get(id).and_then(|&i| self.held.get(i))
    }

    /// Deletes loaded messages by id with the session's receipts; returns how many. Audited, with
    /// the operator's note if there is one.
    pub async fn delete(&mut self, ids: &[String], note: Option<&OperatorNote>) -> Result<u64> {
        let p = self.pipeline.clone();
        p.audited_delete(ids, note, self.delete_held(ids)).await
    }

    async fn delete_held(&mut self, ids: &[String]) -> Result<u64> {
        let chosen: Vec<ReceivedMessage> =
            ids.iter().filter_map(|id| self.held(id).cloned()).collect();
        let deleted = delete_messages(&self.pipeline, &self.dlq, &chosen).await?;
        self.forget(&deleted);
        Ok(deleted.len() as u64)
    }

    /// Makes every held message visible again at once and empties the session.
    pub async fn release(&mut self) {
        release(
            &self.pipeline,
            &self.dlq,
            self.held.iter().map(|m| m.receipt.as_str()),
        )
        .await;
        self.held.clear();
        self.index.clear();
        self.bodies.clear();
        self.exhausted = false;
    }
}
