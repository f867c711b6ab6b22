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
        let sent = within(deadline, send_to_dlq(self, letters)).await;
        late |= sent.is_err();
        let dead_lettered = sent.unwrap_or_default();
        let out = judged.outcome(&dead_lettered, &ctx, Timestamp::now());
        log_failures(&out.records);
        if within(deadline, record_failures(self, &out.records))
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
        match within(deadline, store.persist_vouchers(vouchers)).await {
            Ok(Ok(each)) => (each.into_iter().map(Ok).collect(), false),
            Ok(Err(e)) if vouchers.len() > 1 && e.is_retryable() => {
                tracing::info!(error = %e, vouchers = vouchers.len(),
                    "the batch write failed; writing each voucher on its own");
                let alone = vouchers.iter().map(|v| async move {
                    let one = std::slice::from_ref(v);
                    match within(deadline, store.persist_vouchers(one)).await {
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

/// `work`'s output if it finishes by `deadline`; not even started when the deadline has passed.
async fn within<T>(deadline: Instant, work: impl Future<Output = T>) -> Result<T, Elapsed> {
    if Instant::now() >= deadline {
        return Err(Elapsed);
    }
    timeout_at(deadline.into(), work).await.map_err(|_| Elapsed)
}

/// The deadline came first.
#[derive(Debug)]
struct Elapsed;

fn unanswered() -> BackendError {
    BackendError::Other("the store gave no outcome for this voucher".into())
}

fn past_deadline() -> BackendError {
    BackendError::Timeout(
        "the invocation's deadline came before the store answered; delivered again later".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::decoded::fixtures::{message, voucher};
    use super::*;
    use crate::config::PipelineConfig;
    use voucherdeck_core::backend::Names;
    use voucherdeck_core::domain::encode;
    use voucherdeck_embedded::Embedded;

    async fn pipeline() -> Pipeline {
        let p = Pipeline::new(
            Embedded::new(Names::default()).backend,
            PipelineConfig::default(),
        );
        p.prepare_embedded().await.expect("prepared");
        p
    }

    fn batch() -> Vec<ReceivedMessage> {
        vec![
            message("v1", encode(&voucher()), 1),
            message("p1", "not json".into(), 1),
            message("v2", encode(&voucher()), 2),
        ]
    }

    #[tokio::test]
    async fn poison_goes_to_the_dlq_and_everything_is_done() {
        let p = pipeline().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let out = p.consume_delivered(batch(), "vouchers", deadline).await;
        assert_eq!(out.not_done, Vec::<String>::new());
        assert!(!out.deadline_passed);
        let counts = ConsumerStats {
            received: 3,
            persisted: 2,
            failed: 1,
            dead_lettered: 1,
        };
        assert_eq!(out.counts, counts);
        let (queue, dlq) = p.depths().await.expect("depths");
        assert_eq!(
            (queue.visible, dlq.visible),
            (0, 1),
            "nothing is sent back to the queue"
        );
        assert_eq!(p.backend().store.count_vouchers().await.expect("count"), 2);
    }

    #[tokio::test]
    async fn a_deadline_already_past_leaves_everything_not_done() {
        let p = pipeline().await;
        let out = p
            .consume_delivered(batch(), "vouchers", Instant::now())
            .await;
        let mut not_done = out.not_done.clone();
        not_done.sort();
        assert_eq!(not_done, ["p1", "v1", "v2"]);
        assert!(out.deadline_passed);
        assert_eq!(out.counts.persisted, 0);
    }
}
