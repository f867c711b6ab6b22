//! Carrying a received batch out: persist its vouchers and dead-letter its poison (and conflicts)
//! while the heartbeat keeps it hidden, then do what the [plan](super::plan) says: delete (with
//! retries), set backoffs, write failure records, count, and tell the followers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::decoded::Decoded;
use super::heartbeat::Heartbeat;
use super::plan::{BatchContext, BatchOutcome};
use super::report::ConsumerEvent;
use super::worker::Worker;
use super::writes::{log_failures, record_failures, send_to_dlq};
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{Receipt, ReceivedMessage, SQS_BATCH_MAX, VisibilityChange};

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
        let decoded = Decoded::new(msgs, config.limits, config.trusted_senders.as_ref());
        let heartbeat = Heartbeat::start(
            self.pipeline.backend().queue.clone(),
            self.queue.clone(),
            config.visibility_timeout,
            decoded.messages(),
        );
        let vouchers = decoded.vouchers();
        let persisted = if vouchers.is_empty() {
            Ok(Vec::new())
        } else {
            self.pipeline
                .backend()
                .store
                .persist_vouchers(&vouchers)
                .await
        };
        let judged = decoded.judge(persisted);
        let dead_lettered = send_to_dlq(&self.pipeline, judged.dead_letters(&ctx)).await;
        heartbeat.stop().await;

        let out = judged.outcome(&dead_lettered, &ctx, Timestamp::now());
        self.delete(&out.delete).await;
        self.back_off(&out.back_off).await;
        record_failures(&self.pipeline, &out.records).await;
        log_failures(&out.records);
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.shared.stats.batch_done(n, &out.counts, latency_ms);
        self.tell(out);
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
            let mut retry: HashSet<String> = HashSet::new();
            for chunk in pending.chunks(SQS_BATCH_MAX) {
                match self
                    .pipeline
                    .backend()
                    .queue
                    .delete_batch(&self.queue, chunk)
                    .await
                {
                    Ok(out) => {
                        for f in out.failed.iter().filter(|f| f.sender_fault) {
                            tracing::warn!(code = %f.code, message = %f.message, "delete refused; the message will be redelivered and found done");
                        }
                        retry.extend(
                            out.failed
                                .into_iter()
                                .filter(|f| !f.sender_fault)
                                .map(|f| f.id),
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "delete failed");
                        retry.extend(chunk.iter().map(|r| r.id.clone()));
                    }
                }
            }
            pending.retain(|r| retry.contains(&r.id));
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
        for chunk in changes.chunks(SQS_BATCH_MAX) {
            if let Err(e) = self
                .pipeline
                .backend()
                .queue
                .change_visibility_batch(&self.queue, chunk)
                .await
            {
                tracing::warn!(error = %e, "could not set backoff; messages return after the visibility timeout");
            }
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
