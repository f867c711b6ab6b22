//! DLQ triage: peek (DLQ only; it raises receive counts), delete chosen messages, and the shared
//! "find these messages in a queue" walk that redrive uses too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;

use super::Pipeline;
use super::consumer::attr;
use crate::domain::{FailureRecord, Timestamp};
use crate::ports::{
    QueueRef, Receipt, ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX, VisibilityChange,
};

/// How long peeked messages stay hidden while a peek or walk runs (released at once after).
pub const PEEK_VISIBILITY: Duration = Duration::from_secs(30);
/// Longest a walk through a queue receives, so that held messages never reappear during it.
pub const WALK_BUDGET: Duration = Duration::from_secs(20);
/// Most messages one peek gathers.
pub const PEEK_MAX: usize = 1000;

/// A message in the DLQ, with its failure reason where one is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receive_count: u32,
    pub sent_at: Option<Timestamp>,
    pub failure: Option<DlqFailure>,
}

/// Why a message is in the DLQ: from the attributes the consumer set, or from the failure log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqFailure {
    pub kind: String,
    pub reason: String,
    pub worker: Option<String>,
    pub first_seen: Option<String>,
    pub source_queue: Option<String>,
}

impl DlqMessage {
    fn from_received(m: ReceivedMessage, log: &[FailureRecord]) -> Self {
        let a = &m.attributes;
        // A log record under this very message id means SQS moved it here after retries: that is
        // the newest truth (attributes may be left from an earlier failure, before a redrive).
        let from_log = log
            .iter()
            .find(|r| r.message_id == m.message_id)
            .map(|r| DlqFailure {
                kind: r.kind.to_string(),
                reason: format!("{} (after {} receives)", r.reason, r.receive_count),
                worker: Some(r.worker.clone()),
                first_seen: None,
                source_queue: Some(r.queue.clone()),
            });
        let from_attributes = a.get(attr::ERROR_KIND).map(|kind| DlqFailure {
            kind: kind.clone(),
            reason: a.get(attr::ERROR_MESSAGE).cloned().unwrap_or_default(),
            worker: a.get(attr::WORKER).cloned(),
            first_seen: a.get(attr::FIRST_SEEN).cloned(),
            source_queue: a.get(attr::SOURCE_QUEUE).cloned(),
        });
        let failure = from_log.or(from_attributes);
        DlqMessage {
            message_id: m.message_id,
            body: m.body,
            attributes: m.attributes,
            receive_count: m.receive_count,
            sent_at: m.sent_at,
            failure,
        }
    }
}

impl Pipeline {
    /// Lists up to `limit` DLQ messages without removing them. Each peek is a receive (it raises the
    /// receive count), so it is done only on the DLQ, with a short visibility timeout, released at once.
    pub async fn peek_dlq(&self, limit: usize) -> Result<Vec<DlqMessage>> {
        let dlq = self.dlq().await?;
        let (held, _) = self.walk(&dlq, limit.min(PEEK_MAX), |_| false).await?;
        self.release(&dlq, &held).await;
        let log = self.recent_failures(500).await.unwrap_or_default();
        let mut seen: Vec<DlqMessage> = held
            .into_iter()
            .map(|m| DlqMessage::from_received(m, &log))
            .collect();
        seen.sort_by_key(|m| m.sent_at);
        Ok(seen)
    }

    /// Deletes the DLQ messages with these ids; returns how many were found and deleted.
    pub async fn delete_dlq(&self, ids: &[String]) -> Result<u64> {
        let dlq = self.dlq().await?;
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let (held, chosen) = self
            .walk(&dlq, PEEK_MAX, |m| wanted.contains(m.message_id.as_str()))
            .await?;
        let mut deleted = 0;
        let mut failure = None;
        for chunk in chosen.chunks(SQS_BATCH_MAX) {
            let receipts: Vec<Receipt> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| m.receipt_entry(i))
                .collect();
            match self.backend().queue.delete_batch(&dlq, &receipts).await {
                Ok(out) => deleted += out.succeeded.len() as u64,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.release(&dlq, &held).await;
        match failure {
            Some(e) => Err(e),
            None => Ok(deleted),
        }
    }

    /// Receives through a queue until it is empty, `limit` messages are gathered, or `WALK_BUDGET`
    /// has passed (well inside the visibility timeout, so nothing held reappears mid-walk). Messages
    /// for which `take` is true are returned in the second list, the others in the first; both stay
    /// hidden: release them with `release`. A message delivered twice keeps its newest receipt.
    pub(crate) async fn walk(
        &self,
        queue: &QueueRef,
        limit: usize,
        take: impl Fn(&ReceivedMessage) -> bool,
    ) -> Result<(Vec<ReceivedMessage>, Vec<ReceivedMessage>)> {
        let started = std::time::Instant::now();
        let mut seen: Vec<ReceivedMessage> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut empty_in_a_row = 0;
        while seen.len() < limit && empty_in_a_row < 2 && started.elapsed() < WALK_BUDGET {
            let req = ReceiveRequest {
                max: SQS_BATCH_MAX.min(limit - seen.len()),
                wait: Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 }),
                visibility: Some(PEEK_VISIBILITY),
            };
            let got = match self.backend().queue.receive(queue, req).await {
                Ok(g) => g,
                Err(e) => {
                    self.release(queue, &seen).await;
                    return Err(e);
                }
            };
            let mut fresh = 0;
            for m in got {
                if let Some(&i) = index.get(&m.message_id) {
                    // Delivered again (at-least-once): only the newest receipt works.
                    seen[i] = m;
                } else {
                    index.insert(m.message_id.clone(), seen.len());
                    seen.push(m);
                    fresh += 1;
                }
            }
            empty_in_a_row = if fresh == 0 { empty_in_a_row + 1 } else { 0 };
        }
        Ok(seen.into_iter().partition(|m| !take(m)))
    }

    /// Makes held messages visible again at once.
    pub(crate) async fn release(&self, queue: &QueueRef, msgs: &[ReceivedMessage]) {
        for chunk in msgs.chunks(SQS_BATCH_MAX) {
            let changes: Vec<VisibilityChange> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| m.visibility_entry(i, Duration::ZERO))
                .collect();
            if let Err(e) = self
                .backend()
                .queue
                .change_visibility_batch(queue, &changes)
                .await
            {
                tracing::warn!(error = %e, "could not release peeked messages; they return after 30 s");
            }
        }
    }
}
