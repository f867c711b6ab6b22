//! Carrying a batch out: persist its vouchers and dead-letter its poison while the heartbeat keeps
//! it hidden, then do what the [plan](super::plan) says: delete (with retries), set backoffs, write
//! failure records, count, and tell the followers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::events::ConsumerEvent;
use super::heartbeat::Heartbeat;
use super::plan::{BatchContext, BatchOutcome, Decoded};
use super::worker::Worker;
use crate::domain::{FailureRecord, Timestamp};
use crate::ports::{BatchResult, OutgoingMessage, Receipt, ReceivedMessage, VisibilityChange};

/// Attempts of a delete whose entries failed on the service's side.
const DELETE_ATTEMPTS: u32 = 3;

impl Worker {
    pub(super) async fn process_batch(&self, msgs: Vec<ReceivedMessage>) {
        let started = Instant::now();
        let n = msgs.len();
        self.shared.stats.batch_started(n);
        let config = self.pipeline.config();
        let ctx = BatchContext {
            queue: &self.queue.name,
            worker: &config.worker_id,
            max_receive_count: config.max_receive_count,
            backoff_base: self.cfg.backoff_base,
            backoff_max: self.cfg.backoff_max,
        };
        let decoded = Decoded::new(msgs, config.limits);
        let heartbeat = Heartbeat::start(
            self.pipeline.backend().queue.clone(),
            self.queue.clone(),
            config.visibility_timeout,
            decoded.messages(),
        );
        let vouchers = decoded.vouchers();
        let persisted = if vouchers.is_empty() {
            Ok(())
        } else {
            self.pipeline.backend().store.put_vouchers(&vouchers).await
        };
        let dlq_answer = self.send_to_dlq(&decoded.dead_letters(&ctx)).await;
        heartbeat.stop().await;

        let out = decoded.outcome(
            persisted.as_ref().copied(),
            dlq_answer.as_ref(),
            &ctx,
            Timestamp::now(),
        );
        self.delete(&out.delete).await;
        self.back_off(&out.back_off).await;
        self.write_records(&out.records).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.shared.stats.batch_done(n, &out.counts, latency_ms);
        self.tell(out);
    }

    /// Sends poison to the DLQ with its diagnosis; the answer, or `None` when nothing was sent.
    async fn send_to_dlq(&self, entries: &[OutgoingMessage]) -> Option<BatchResult> {
        if entries.is_empty() {
            return None;
        }
        let dlq = match self.pipeline.dlq().await {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the DLQ; poison messages stay for redelivery");
                return None;
            }
        };
        match self
            .pipeline
            .backend()
            .queue
            .send_batch(&dlq, entries)
            .await
        {
            Ok(answer) => {
                for f in &answer.failed {
                    tracing::warn!(code = %f.code, message = %f.message, "DLQ send failed for one message");
                }
                Some(answer)
            }
            Err(e) => {
                tracing::warn!(error = %e, "DLQ send failed; poison messages stay for redelivery");
                None
            }
        }
    }

    /// Deletes in batches, retrying entries that failed.
    async fn delete(&self, msgs: &[ReceivedMessage]) {
        if msgs.is_empty() {
            return;
        }
        let mut pending: Vec<Receipt> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| m.receipt_entry(i))
            .collect();
        for attempt in 1..=DELETE_ATTEMPTS {
            match self
                .pipeline
                .backend()
                .queue
                .delete_batch(&self.queue, &pending)
                .await
            {
                Ok(out) => {
                    let failed: HashSet<String> = out
                        .failed
                        .iter()
                        .filter(|f| !f.sender_fault)
                        .map(|f| f.id.clone())
                        .collect();
                    for f in out.failed.iter().filter(|f| f.sender_fault) {
                        tracing::warn!(code = %f.code, message = %f.message, "delete refused; the message will be redelivered and found done");
                    }
                    pending.retain(|r| failed.contains(&r.id));
                }
                Err(e) => tracing::warn!(error = %e, attempt, "delete failed"),
            }
            if pending.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        // Not deleted: the message comes back after its visibility timeout and is found already done.
        tracing::warn!(
            count = pending.len(),
            "messages not deleted; they will be redelivered"
        );
    }

    /// Leaves retryable failures for redelivery after their backoff.
    async fn back_off(&self, retry: &[(ReceivedMessage, Duration)]) {
        if retry.is_empty() {
            return;
        }
        let changes: Vec<VisibilityChange> = retry
            .iter()
            .enumerate()
            .map(|(i, (m, wait))| m.visibility_entry(i, *wait))
            .collect();
        if let Err(e) = self
            .pipeline
            .backend()
            .queue
            .change_visibility_batch(&self.queue, &changes)
            .await
        {
            tracing::warn!(error = %e, "could not set backoff; messages return after the visibility timeout");
        }
    }

    /// Writes the failure records to the shared log, and to the trace.
    async fn write_records(&self, records: &[FailureRecord]) {
        if records.is_empty() {
            return;
        }
        if let Err(e) = self.pipeline.backend().failures.record(records).await {
            tracing::warn!(error = %e, "could not write failure records");
        }
        for r in records {
            tracing::warn!(message_id = %r.message_id, kind = %r.kind, receive_count = r.receive_count,
                dead_lettered = r.dead_lettered, reason = %r.reason, "message failed");
        }
    }

    /// Tells the followers what became of the batch.
    fn tell(&self, out: BatchOutcome) {
        let Some(tx) = &self.events else {
            return;
        };
        for (voucher_id, message_id) in out.persisted {
            let _ = tx.try_send(ConsumerEvent::Persisted {
                voucher_id,
                message_id,
            });
        }
        for r in out.records {
            let _ = tx.try_send(ConsumerEvent::Failed(r));
        }
    }
}
