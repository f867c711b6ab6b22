//! DLQ triage: peek (DLQ only; it raises receive counts), delete chosen messages, and the shared
//! "find these messages in a queue" walk that redrive uses too.

use std::collections::{BTreeMap, HashSet};
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
        let failure = match a.get(attr::ERROR_KIND) {
            Some(kind) => Some(DlqFailure {
                kind: kind.clone(),
                reason: a.get(attr::ERROR_MESSAGE).cloned().unwrap_or_default(),
                worker: a.get(attr::WORKER).cloned(),
                first_seen: a.get(attr::FIRST_SEEN).cloned(),
                source_queue: a.get(attr::SOURCE_QUEUE).cloned(),
            }),
            // Moved by SQS after maxReceiveCount: the failure log knows the last reason.
            None => log
                .iter()
                .find(|r| r.message_id == m.message_id)
                .map(|r| DlqFailure {
                    kind: r.kind.to_string(),
                    reason: format!("{} (after {} receives)", r.reason, r.receive_count),
                    worker: Some(r.worker.clone()),
                    first_seen: None,
                    source_queue: Some(r.queue.clone()),
                }),
        };
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
        let mut seen = Vec::new();
        let walk = self.walk(&dlq, limit.min(PEEK_MAX), |_| false).await;
        let (held, _) = match walk {
            Ok(w) => w,
            Err(e) => return Err(e),
        };
        self.release(&dlq, &held).await;
        let log = self.recent_failures(500).await.unwrap_or_default();
        for m in held {
            seen.push(DlqMessage::from_received(m, &log));
        }
        seen.sort_by_key(|a| a.sent_at);
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
        for chunk in chosen.chunks(SQS_BATCH_MAX) {
            let receipts: Vec<Receipt> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| Receipt {
                    id: i.to_string(),
                    handle: m.receipt.clone(),
                })
                .collect();
            deleted += self
                .backend()
                .queue
                .delete_batch(&dlq, &receipts)
                .await?
                .succeeded
                .len() as u64;
        }
        self.release(&dlq, &held).await;
        Ok(deleted)
    }

    /// Receives through a queue until it is empty or `limit` messages are gathered. Messages for which
    /// `take` is true are returned in the second list (still hidden); the others in the first list,
    /// also still hidden: release them with `release`. Stops early once every wanted id is found when
    /// `take` is an id set (the caller bounds `limit`).
    pub(crate) async fn walk(
        &self,
        queue: &QueueRef,
        limit: usize,
        take: impl Fn(&ReceivedMessage) -> bool,
    ) -> Result<(Vec<ReceivedMessage>, Vec<ReceivedMessage>)> {
        let mut held = Vec::new();
        let mut chosen = Vec::new();
        let mut ids = HashSet::new();
        let mut empty_in_a_row = 0;
        while held.len() + chosen.len() < limit && empty_in_a_row < 2 {
            let req = ReceiveRequest {
                max: SQS_BATCH_MAX.min(limit - held.len() - chosen.len()),
                wait: Duration::from_millis(if empty_in_a_row == 0 { 0 } else { 1000 }),
                visibility: Some(PEEK_VISIBILITY),
            };
            let got = match self.backend().queue.receive(queue, req).await {
                Ok(g) => g,
                Err(e) => {
                    self.release(queue, &held).await;
                    self.release(queue, &chosen).await;
                    return Err(e);
                }
            };
            if got.is_empty() {
                empty_in_a_row += 1;
                continue;
            }
            empty_in_a_row = 0;
            for m in got {
                if !ids.insert(m.message_id.clone()) {
                    continue; // delivered twice (at-least-once): keep the first
                }
                if take(&m) {
                    chosen.push(m);
                } else {
                    held.push(m);
                }
            }
        }
        Ok((held, chosen))
    }

    /// Makes held messages visible again at once.
    pub(crate) async fn release(&self, queue: &QueueRef, msgs: &[ReceivedMessage]) {
        for chunk in msgs.chunks(SQS_BATCH_MAX) {
            let changes: Vec<VisibilityChange> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| VisibilityChange {
                    id: i.to_string(),
                    handle: m.receipt.clone(),
                    timeout: Duration::ZERO,
                })
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
