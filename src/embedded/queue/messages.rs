//! Messages: send, receive (long polls that wake on arrival or when a message becomes visible),
//! delete, change visibility, count, purge.

use std::time::Duration;

use tokio::time::Instant;

use super::engine::{
    MAX_BODY, MAX_DELAY, MAX_VISIBILITY, Message, PURGE_INTERVAL, QueueState, random_id,
};
use super::service::EmbeddedQueues;
use crate::domain::Timestamp;
use crate::ports::{
    BackendError, BatchFailure, BatchResult, MAX_WAIT, OutgoingMessage, QueueRef, QueueStats,
    Receipt, ReceiveRequest, ReceivedMessage, Result, SQS_BATCH_MAX, VisibilityChange,
};

impl EmbeddedQueues {
    /// Receives up to `req.max` messages, waiting up to `req.wait` for the first one.
    pub(super) async fn receive_messages(
        &self,
        queue: &QueueRef,
        req: ReceiveRequest,
    ) -> Result<Vec<ReceivedMessage>> {
        if req.max == 0 || req.max > SQS_BATCH_MAX {
            return Err(BackendError::Invalid(
                "receive at most 1 to 10 messages".into(),
            ));
        }
        if req.wait > MAX_WAIT {
            return Err(BackendError::Invalid(
                "long-poll wait must be at most 20 seconds".into(),
            ));
        }
        let deadline = Instant::now() + req.wait;
        loop {
            let notify = self.lock().queue(&queue.name)?.notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (got, next_visible) = {
                let mut engine = self.lock();
                let now = Instant::now();
                if let Some(dlq_notify) = engine.dead_letter_due(&queue.name, now) {
                    dlq_notify.notify_waiters();
                }
                engine.queue(&queue.name)?.take_visible(req, now)
            };
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let wake = next_visible.map_or(deadline, |n| n.min(deadline));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}

impl QueueState {
    /// Receives up to `req.max` visible messages; also returns when the next hidden one shows.
    fn take_visible(
        &mut self,
        req: ReceiveRequest,
        now: Instant,
    ) -> (Vec<ReceivedMessage>, Option<Instant>) {
        let visibility = req
            .visibility
            .unwrap_or(self.visibility)
            .min(MAX_VISIBILITY);
        let due_at = self.redrive.as_ref().map(|p| p.max_receive_count);
        let mut got = Vec::new();
        let mut next_visible: Option<Instant> = None;
        for m in &mut self.messages {
            if m.visible_at > now {
                next_visible = Some(next_visible.map_or(m.visible_at, |n| n.min(m.visible_at)));
                continue;
            }
            if got.len() == req.max {
                break;
            }
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
            });
        }
        (got, next_visible)
    }

    pub(super) fn send(&mut self, messages: &[OutgoingMessage]) -> BatchResult {
        let now = Instant::now();
        let mut out = BatchResult::default();
        for m in messages {
            if m.body.is_empty() || m.body.len() > MAX_BODY {
                out.failed.push(BatchFailure {
                    id: m.id.clone(),
                    code: "InvalidParameterValue".into(),
                    message: format!("message body must be 1 to {MAX_BODY} bytes"),
                    sender_fault: true,
                });
                continue;
            }
            let delay = m.delay.unwrap_or_default().min(MAX_DELAY);
            self.messages.push_back(Message::fresh(
                m.body.clone(),
                m.attributes.clone(),
                now,
                now + delay,
            ));
            out.succeeded.push(m.id.clone());
        }
        self.notify.notify_waiters();
        out
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

fn invalid_receipt(id: &str) -> BatchFailure {
    BatchFailure {
        id: id.to_string(),
        code: "ReceiptHandleIsInvalid".into(),
        message: "the receipt handle is not valid for this queue".into(),
        sender_fault: true,
    }
}
