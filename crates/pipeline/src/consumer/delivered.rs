//! A batch delivered by someone else's receive: a Lambda event source mapping polls the queue and
//! hands the function up to ten messages. The same steps as a worker's batch (decode, validate,
//! create-only persist, poison to the DLQ with its reason, failure records), but nothing is
//! deleted or hidden by hand: the answer names the messages that are not done, the mapping
//! deletes the others, and SQS redelivers those (visibility timeout, then maxReceiveCount).
//!
//! Everything runs within a deadline (the invocation's, less time to answer): what is not finished
//! by then is answered as not done. A batch store write that fails for a reason that may pass is
//! tried again one voucher at a time, so a failure that belongs to one voucher keeps only that
//! one back.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::time::timeout_at;

use super::decoded::Decoded;
use super::plan::BatchContext;
use super::writes::{log_failures, record_failures, send_to_dlq};
use crate::services::Pipeline;
use voucherdeck_core::domain::{Persisted, Timestamp, Voucher};
use voucherdeck_core::ports::{BackendError, ConsumerStats, ReceivedMessage};

/// What became of a delivered batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveredOutcome {
    /// Message ids that are not done (to be delivered again), in the batch's order.
    pub not_done: Vec<String>,
    /// What the batch adds to the consumer's counts (`received` included).
    pub counts: ConsumerStats,
    /// How long the batch took, in milliseconds.
    pub latency_ms: f64,
    /// Whether the deadline cut some of the work short.
    pub deadline_passed: bool,
}

impl Pipeline {
    /// Consumes a batch delivered from the source queue `queue`, finishing by `deadline`. Never
    /// deletes: the outcome's `not_done` lists what must come back.
    pub async fn consume_delivered(
        &self,
        msgs: Vec<ReceivedMessage>,
        queue: &str,
        deadline: Instant,
    ) -> DeliveredOutcome {
        let started = Instant::now();
        let ids: Vec<String> = msgs.iter().map(|m| m.message_id.clone()).collect();
        let config = self.config();
        let ctx = BatchContext {
            queue,
            worker: &config.worker_id,
            max_receive_count: config.max_receive_count,
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
        };
        let decoded = Decoded::new(msgs, config.limits, config.trusted_senders.as_ref());
        let vouchers = decoded.vouchers();
        let (persisted, mut late) = self.persist_by(&vouchers, deadline).await;
        let judged = decoded.judge_each(persisted);
        let letters = judged.dead_letters(&ctx);
        let sent = timeout_at(deadline.into(), send_to_dlq(self, letters)).await;
        late |= sent.is_err();
        let dead_lettered = sent.unwrap_or_default();
        let out = judged.outcome(&dead_lettered, &ctx, Timestamp::now());
        log_failures(&out.records);
        if timeout_at(deadline.into(), record_failures(self, &out.records))
            .await
            .is_err()
        {
            late = true;
            tracing::warn!(
                records = out.records.len(),
                "the deadline passed before the failure records were written"
            );
        }
        let done: HashSet<&str> = out.delete.iter().map(|m| m.message_id.as_str()).collect();
        let not_done = ids
            .iter()
            .filter(|id| !done.contains(id.as_str()))
            .cloned()
            .collect();
        let mut counts = out.counts;
        counts.received = ids.len() as u64;
        DeliveredOutcome {
            not_done,
            counts,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            deadline_passed: late,
        }
    }

    /// Persists `vouchers` by `deadline`: one answer per voucher, and whether the deadline cut it
    /// short. A batch write that fails for a reason that may pass is tried once more per voucher.
    async fn persist_by(
        &self,
        vouchers: &[Voucher],
        deadline: Instant,
    ) -> (Vec<Result<Persisted, BackendError>>, bool) {
        if vouchers.is_empty() {
            return (Vec::new(), false);
        }
        let store = &self.backend().store;
        match timeout_at(deadline.into(), store.persist_vouchers(vouchers)).await {
            Ok(Ok(each)) => (each.into_iter().map(Ok).collect(), false),
            Ok(Err(e)) if vouchers.len() > 1 && e.is_retryable() => {
                tracing::info!(error = %e, vouchers = vouchers.len(),
                    "the batch write failed; writing each voucher on its own");
                let alone = vouchers.iter().map(|v| async move {
                    let one = std::slice::from_ref(v);
                    match timeout_at(deadline.into(), store.persist_vouchers(one)).await {
                        Ok(Ok(mut p)) if p.len() == 1 => (p.pop().ok_or_else(unanswered), false),
                        Ok(Ok(_)) => (Err(unanswered()), false),
                        Ok(Err(e)) => (Err(e), false),
                        Err(_) => (Err(past_deadline()), true),
                    }
                });
                let answers = futures::future::join_all(alone).await;
                let late = answers.iter().any(|(_, late)| *late);
                (answers.into_iter().map(|(a, _)| a).collect(), late)
            }
            Ok(Err(e)) => (vec![Err(e); vouchers.len()], false),
            Err(_) => (vec![Err(past_deadline()); vouchers.len()], true),
        }
    }
}

fn unanswered() -> BackendError {
    BackendError::Other("the store gave no outcome for this voucher".into())
}

fn past_deadline() -> BackendError {
    BackendError::Timeout(
        "the invocation's deadline came before the store answered; delivered again later".into(),
    )
}
