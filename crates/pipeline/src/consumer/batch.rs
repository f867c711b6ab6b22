//! Carrying a batch out: persist its vouchers and dead-letter its poison (and conflicts) while the
//! heartbeat keeps it hidden, then do what the [plan](super::plan) says: delete (with retries), set
//! backoffs, write failure records, count, and tell the followers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::decoded::Decoded;
use super::heartbeat::Heartbeat;
use super::plan::{BatchContext, BatchOutcome};
use super::report::ConsumerEvent;
use super::worker::Worker;
use crate::dlq::letters::pack;
use voucherdeck_core::domain::{FailureRecord, Timestamp};
use voucherdeck_core::ports::{
    OutgoingMessage, Progress, Receipt, ReceivedMessage, SQS_BATCH_MAX, VisibilityChange,
};

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
        let dead_lettered = self.send_to_dlq(judged.dead_letters(&ctx)).await;
        heartbeat.stop().await;

        let out = judged.outcome(&dead_lettered, &ctx, Timestamp::now());
        self.delete(&out.delete).await;
        self.back_off(&out.back_off).await;
        self.write_records(&out.records).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.shared.stats.batch_done(n, &out.counts, latency_ms);
        self.tell(out);
    }

    /// Sends dead letters to the DLQ with their diagnosis, each within the DLQ's size limit and in
    /// as many calls as SQS's limits need; returns the entries the DLQ accepted.
    async fn send_to_dlq(&self, letters: Vec<OutgoingMessage>) -> HashSet<usize> {
        let mut accepted = HashSet::new();
        if letters.is_empty() {
            return accepted;
        }
        let dlq = match self.pipeline.dlq().await {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the DLQ; poison messages stay for redelivery");
                return accepted;
            }
        };
        let (batches, too_large) = pack(letters, self.pipeline.dlq_message_size().await);
        for m in too_large {
            tracing::error!(entry = %m.id, bytes = m.body.len(),
                "message body too large for the DLQ; left for SQS to move after maxReceiveCount");
        }
        for batch in batches {
            let queue = &self.pipeline.backend().queue;
            let answers = match queue.send_batch(&dlq, &batch).await {
                Ok(answer) => vec![answer],
                // Refused as a whole (a limit this side did not foresee): one message per call,
                // so one cannot keep the others out.
                Err(e) if batch.len() > 1 && !e.is_retryable() => {
                    tracing::warn!(error = %e, "DLQ batch refused; sending its messages one by one");
                    let mut answers = Vec::new();
                    for m in &batch {
                        match queue.send_batch(&dlq, std::slice::from_ref(m)).await {
                            Ok(a) => answers.push(a),
                            Err(e) => tracing::warn!(error = %e, entry = %m.id, "DLQ send failed"),
                        }
                    }
                    answers
                }
                Err(e) => {
                    tracing::warn!(error = %e, "DLQ send failed; poison messages stay for redelivery");
                    Vec::new()
                }
            };
            for answer in answers {
                for f in &answer.failed {
                    tracing::warn!(code = %f.code, message = %f.message, "DLQ send failed for one message");
                }
                accepted.extend(
                    answer
                        .succeeded
                        .iter()
                        .filter_map(|id| id.parse::<usize>().ok()),
                );
            }
        }
        accepted
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

    /// Writes the failure records to the shared log, and to the trace.
    async fn write_records(&self, records: &[FailureRecord]) {
        if records.is_empty() {
            return;
        }
        if let Err(e) = self.pipeline.backend().failures.record(records).await {
            tracing::warn!(error = %e, "could not write failure records");
        }
        // Each voucher's own row says what became of it, for status reads.
        let store = &self.pipeline.backend().store;
        let marks = records.iter().filter_map(|r| {
            let progress = Progress {
                dead_lettered: r.dead_lettered,
                reason: r.reason.clone(),
                at: r.at,
            };
            r.voucher_id
                .map(|id| async move { (id, store.record_progress(id, &progress).await) })
        });
        for (id, result) in futures::future::join_all(marks).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, voucher_id = %id, "could not record the voucher's progress");
            }
        }
        // A log never carries a full recipient: the record's is masked, and so is any address its
        // reason quotes from the body.
        for r in records {
            let voucher_id = r.voucher_id.map_or_else(|| "-".into(), |v| v.to_string());
            tracing::warn!(%voucher_id, message_id = %r.message_id, kind = %r.kind,
                recipient = %r.recipient.as_deref().unwrap_or("-"), receive_count = r.receive_count,
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
