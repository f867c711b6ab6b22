//! Messages of a queue: send, take the visible ones (fair across message groups), delete, change
//! visibility, count, purge.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::engine::{
    MAX_VISIBILITY, Message, PURGE_INTERVAL, QueueState, check_entries, random_id,
};
use super::fifo;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::domain::limits::{
    DELAY_MAX, MESSAGE_SIZE_MAX, check_group_id, check_message, message_size,
};
use voucherdeck_core::ports::{
    BackendError, BatchFailure, BatchResult, OutgoingMessage, QueueStats, Receipt, ReceiveRequest,
    ReceivedMessage, Result, VisibilityChange,
};

/// How many visible messages deep a receive looks for other groups' messages.
const FAIR_WINDOW: usize = 1_000;

impl QueueState {
    /// Receives up to `req.max` visible messages; also returns when the next hidden one shows.
    /// Fair across message groups (SQS fair queues): the oldest message of every group comes
    /// before the second of any, so one group's backlog does not hold back the others.
    pub(super) fn take_visible(
        &mut self,
        req: ReceiveRequest,
        now: Instant,
    ) -> (Vec<ReceivedMessage>, Option<Instant>) {
        let visibility = req
            .visibility
            .unwrap_or(self.visibility)
            .min(MAX_VISIBILITY);
        let due_at = self.redrive.as_ref().map(|p| p.max_receive_count);
        let (chosen, next_visible) = if self.fifo.is_some() {
            self.fifo_pick(req.max, now)
        } else {
            self.fair_pick(req.max, now)
        };
        let mut got = Vec::with_capacity(chosen.len());
        for i in chosen {
            let m = &mut self.messages[i];
            m.receive_count += 1;
            if due_at.is_some_and(|max| m.receive_count >= max) {
                self.may_be_due = self.may_be_due.saturating_add(1);
            }
            let wall = Timestamp::now();
            m.first_received_at.get_or_insert(wall);
            let receipt = format!("{}#{}", m.id, random_id().simple());
            m.receipt = Some(receipt.clone());
            m.visible_at = now + visibility;
            got.push(ReceivedMessage {
                message_id: m.id.clone(),
                receipt,
                body: m.body.clone(),
                attributes: m.attributes.clone(),
                receive_count: m.receive_count,
                sent_at: Some(m.sent_at),
                first_received_at: m.first_received_at,
                sender_id: Some(m.sender_id.clone()),
                group: m.group.clone(),
            });
        }
        (got, next_visible)
    }

    /// Up to `max` visible messages, and when the next hidden one shows. Ranked by how many older
    /// visible messages their group has (a message without a group is a group of its own), then by
    /// age: the oldest message of every group comes before the second of any. One pass, ending
    /// once `max` groups have offered their oldest, and looking at most [`FAIR_WINDOW`] visible
    /// messages deep (fairness is approximate in SQS too), so a long backlog of one group costs a
    /// receive a bounded scan. When the pass ends early, the next hidden time covers only what it
    /// saw; it is read only by a receive that found nothing, whose pass saw the whole queue.
    fn fair_pick(&self, max: usize, now: Instant) -> (Vec<usize>, Option<Instant>) {
        let mut next_visible: Option<Instant> = None;
        // Fewer than `max` groups are ever counted (the pass ends at `max` oldest), so a short list
        // searched from its last-found entry beats hashing every message's group.
        let mut ranks: Vec<(&str, usize)> = Vec::new();
        let mut last = 0;
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        let (mut firsts, mut looked) = (0, 0);
        for (i, m) in self.messages.iter().enumerate() {
            if m.visible_at > now {
                next_visible = Some(next_visible.map_or(m.visible_at, |n| n.min(m.visible_at)));
                continue;
            }
            if firsts == max || looked == FAIR_WINDOW {
                break;
            }
            looked += 1;
            let rank = m.group.as_deref().map_or(0, |g| {
                if ranks.get(last).is_none_or(|(seen, _)| *seen != g) {
                    last = ranks
                        .iter()
                        .position(|(seen, _)| *seen == g)
                        .unwrap_or_else(|| {
                            ranks.push((g, 0));
                            ranks.len() - 1
                        });
                }
                ranks[last].1 += 1;
                ranks[last].1 - 1
            });
            if rank == 0 {
                firsts += 1;
            }
            // A group's `max`-th message or later never beats `max` messages ranked before it.
            if rank < max {
                candidates.push((rank, i));
            }
        }
        candidates.sort_unstable();
        candidates.truncate(max);
        (
            candidates.into_iter().map(|(_, i)| i).collect(),
            next_visible,
        )
    }

    /// Sends a batch as `sender_id`, with SQS's checks: entry ids valid and distinct and the
    /// batch's total size within 1 MiB (else the whole call fails); each message's body, attributes,
    /// size (within the queue's MaximumMessageSize) and delay (else that entry fails).
    pub(super) fn send(
        &mut self,
        messages: &[OutgoingMessage],
        sender_id: &str,
    ) -> Result<BatchResult> {
        check_entries(messages.iter().map(|m| m.id.as_str()))?;
        let total: usize = messages
            .iter()
            .map(|m| message_size(&m.body, &m.attributes))
            .sum();
        if total > MESSAGE_SIZE_MAX {
            return Err(BackendError::Invalid(format!(
                "BatchRequestTooLong: the batch is {total} bytes; SendMessageBatch carries at most \
                 {MESSAGE_SIZE_MAX} in all"
            )));
        }
        if self.fifo.is_some()
            && let Some((code, why)) = messages.iter().find_map(fifo::refusal)
        {
            // SQS refuses the whole call.
            return Err(BackendError::Invalid(format!("{code}: {why}")));
        }
        let now = Instant::now();
        let mut out = BatchResult::default();
        for m in messages {
            let delay = m.delay.unwrap_or_default();
            if let Some((code, message)) = self.refusal(m) {
                out.failed.push(BatchFailure {
                    id: m.id.clone(),
                    code: code.into(),
                    message,
                    sender_fault: true,
                });
                continue;
            }
            let key = self.fifo.as_ref().map(|_| fifo::dedup_key(m));
            if let (Some(window), Some(key)) = (self.fifo.as_mut(), key.as_deref())
                && window.duplicate(key, now).is_some()
            {
                // Accepted, not queued again (SQS answers with the first send's message id).
                out.succeeded.push(m.id.clone());
                continue;
            }
            let mut message = Message::fresh(
                m.body.clone(),
                m.attributes.clone(),
                sender_id,
                now,
                now + delay,
            );
            message.group.clone_from(&m.group);
            if let (Some(window), Some(key)) = (self.fifo.as_mut(), key) {
                window.remember(key, message.id.clone(), now);
            }
            self.messages.push_back(message);
            out.succeeded.push(m.id.clone());
        }
        self.notify.notify_waiters();
        Ok(out)
    }

    /// Why SQS would refuse this entry on this queue (code and message), if it would.
    fn refusal(&self, m: &OutgoingMessage) -> Option<(&'static str, String)> {
        let delay = m.delay.unwrap_or_default();
        check_message(&m.body, &m.attributes, self.max_message_size)
            .err()
            .map(|why| ("InvalidMessageContents", why))
            .or_else(|| {
                let group = m.group.as_deref().map(check_group_id);
                group
                    .and_then(Result::err)
                    .map(|why| ("InvalidParameterValue", why))
            })
            .or_else(|| {
                (delay > DELAY_MAX).then(|| {
                    let why = format!("DelaySeconds must be 0 to {}", DELAY_MAX.as_secs());
                    ("InvalidParameterValue", why)
                })
            })
    }

    pub(super) fn delete(&mut self, receipts: &[Receipt]) -> BatchResult {
        let mut out = BatchResult::default();
        for r in receipts {
            let Some((msg_id, _)) = r.handle.split_once('#') else {
                out.failed.push(invalid_receipt(&r.id));
                continue;
            };
            // Like SQS: only the newest receipt deletes; an earlier one "succeeds" without deleting
            // (the message was received again since), and a message already gone is a success.
            if let Some(pos) = self
                .messages
                .iter()
                .position(|m| m.id == msg_id && m.receipt.as_deref() == Some(r.handle.as_str()))
            {
                self.messages.remove(pos);
                self.deleted += 1;
            }
            out.succeeded.push(r.id.clone());
        }
        out
    }

    pub(super) fn change_visibility(&mut self, changes: &[VisibilityChange]) -> BatchResult {
        let now = Instant::now();
        let mut out = BatchResult::default();
        let mut wake = false;
        for c in changes {
            if c.timeout > MAX_VISIBILITY {
                out.failed.push(BatchFailure {
                    id: c.id.clone(),
                    code: "InvalidParameterValue".into(),
                    message: "visibility timeout must be at most 12 hours".into(),
                    sender_fault: true,
                });
                continue;
            }
            match self
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_deref() == Some(c.handle.as_str()))
            {
                Some(m) if m.visible_at > now => {
                    m.visible_at = now + c.timeout;
                    wake |= c.timeout.is_zero();
                    out.succeeded.push(c.id.clone());
                }
                Some(_) => out.failed.push(BatchFailure {
                    id: c.id.clone(),
                    code: "MessageNotInflight".into(),
                    message: "the message is not in flight".into(),
                    sender_fault: true,
                }),
                None => out.failed.push(invalid_receipt(&c.id)),
            }
        }
        if wake {
            self.notify.notify_waiters();
        }
        out
    }

    /// Visible, in flight, delayed and the exact oldest age. Never moves messages (SQS moves them
    /// to the DLQ on a receive, not when asked for counts).
    pub(super) fn stats(&self) -> QueueStats {
        let now = Instant::now();
        let mut s = QueueStats {
            visible: 0,
            in_flight: 0,
            delayed: 0,
            oldest_age: None,
            as_of: Timestamp::now(),
        };
        for m in &self.messages {
            if m.visible_at <= now {
                s.visible += 1;
            } else if m.receipt.is_some() {
                s.in_flight += 1;
            } else {
                s.delayed += 1;
            }
            let age = now.saturating_duration_since(m.enqueued);
            s.oldest_age = Some(s.oldest_age.map_or(age, |a| a.max(age)));
        }
        if self.messages.is_empty() {
            s.oldest_age = Some(Duration::ZERO);
        }
        s
    }

    /// Deletes every message, at most once a minute.
    pub(super) fn purge(&mut self) -> Result<()> {
        let now = Instant::now();
        if self
            .last_purge
            .is_some_and(|t| now.duration_since(t) < PURGE_INTERVAL)
        {
            return Err(BackendError::Conflict(
                "a queue can be purged only once every 60 seconds".into(),
            ));
        }
        self.last_purge = Some(now);
        self.messages.clear();
        Ok(())
    }
}

/// FIFO delivery.
impl QueueState {
    /// The groups with a message in flight: none of their messages is delivered until it is
    /// deleted or visible again.
    pub(super) fn groups_in_flight(&self, now: Instant) -> HashSet<&str> {
        self.messages
            .iter()
            .filter(|m| m.receipt.is_some() && m.visible_at > now)
            .filter_map(|m| m.group.as_deref())
            .collect()
    }

    /// Up to `max` visible messages in FIFO order, none of a group with a message in flight, and
    /// when the next hidden one shows.
    pub(super) fn fifo_pick(&self, max: usize, now: Instant) -> (Vec<usize>, Option<Instant>) {
        let held = self.groups_in_flight(now);
        let mut next_visible: Option<Instant> = None;
        let mut chosen = Vec::new();
        for (i, m) in self.messages.iter().enumerate() {
            if m.visible_at > now {
                next_visible = Some(next_visible.map_or(m.visible_at, |n| n.min(m.visible_at)));
                continue;
            }
            if chosen.len() < max && m.group.as_deref().is_none_or(|g| !held.contains(g)) {
                chosen.push(i);
            }
        }
        (chosen, next_visible)
    }
}

fn invalid_receipt(id: &str) -> BatchFailure {
    BatchFailure {
        id: id.to_string(),
        code: "ReceiptHandleIsInvalid".into(),
        message: "the receipt handle is not valid for this queue".into(),
        sender_fault: true,
    }
}
