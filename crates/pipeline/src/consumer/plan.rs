//! The pure step of a batch, once [decoded](super::decoded) and judged by the store's answer:
//! given the DLQ send's answer, decide what happens to every message: delete it (persisted, or
//! safely in the DLQ), dead-letter it (with its kind and reason), or leave it for redelivery after a
//! backoff; which failure records to write; what it adds to the counts. No I/O.

use std::collections::HashSet;
use std::time::Duration;

use uuid::Uuid;

use super::config::backoff;
use crate::dlq::attributes::{Diagnosis, with_diagnosis};
use crate::ordering::{copy_dedup, group_again};
use voucherdeck_core::domain::{FailureKind, FailureRecord, Timestamp, Voucher, redact};
use voucherdeck_core::ports::{ConsumerStats, OutgoingMessage, ReceivedMessage};

/// Who handles the batch, and how it backs off: what its records and DLQ attributes say.
#[derive(Debug, Clone, Copy)]
pub(super) struct BatchContext<'a> {
    /// The source queue's name.
    pub queue: &'a str,
    pub worker: &'a str,
    /// Receives after which SQS moves a message to the DLQ itself.
    pub max_receive_count: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

/// One message that could not be processed.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub msg: ReceivedMessage,
    pub kind: FailureKind,
    pub reason: String,
    /// Voucher id and masked recipient, where the body tells them.
    pub voucher: Option<(Uuid, String)>,
}

/// A batch after the store answered: what is stored, what goes to the DLQ (the decoding's poison,
/// then conflicts), and what is retried.
#[derive(Debug)]
pub(super) struct Judged {
    pub stored: Vec<(ReceivedMessage, Voucher)>,
    pub poison: Vec<Failure>,
    pub retry: Vec<Failure>,
}

/// What to do with a batch, all decided.
#[derive(Debug, Default)]
pub(super) struct BatchOutcome {
    /// Done with (persisted, or safely in the DLQ): delete from the source queue.
    pub delete: Vec<ReceivedMessage>,
    /// Retryable failures, each with its wait before it is received again.
    pub back_off: Vec<(ReceivedMessage, Duration)>,
    /// One record per failure, permanent ones first.
    pub records: Vec<FailureRecord>,
    /// Persisted vouchers (created now, or found stored identical) and their message ids.
    pub persisted: Vec<(Uuid, String)>,
    /// What the batch adds to the consumer's counts (it was counted as received when it arrived).
    pub counts: ConsumerStats,
}

impl Judged {
    /// The DLQ copies of the poison, each with its diagnosis; entry `i` is poison message `i`.
    pub(super) fn dead_letters(&self, ctx: &BatchContext<'_>) -> Vec<OutgoingMessage> {
        self.poison
            .iter()
            .enumerate()
            .map(|(i, f)| OutgoingMessage {
                id: i.to_string(),
                body: f.msg.body.clone(),
                attributes: with_diagnosis(
                    &f.msg,
                    &Diagnosis {
                        kind: f.kind,
                        reason: &f.reason,
                        worker: ctx.worker,
                        source_queue: ctx.queue,
                    },
                ),
                delay: None,
                group: Some(group_again(&f.msg)),
                dedup: Some(copy_dedup(&f.msg)),
            })
            .collect()
    }

    /// The plan, given which dead letters the DLQ accepted (by entry). Poison is deleted only once
    /// the DLQ has it; vouchers only once stored; retryable failures back off.
    pub(super) fn outcome(
        self,
        dead_lettered: &HashSet<usize>,
        ctx: &BatchContext<'_>,
        now: Timestamp,
    ) -> BatchOutcome {
        let mut out = BatchOutcome::default();
        for (m, v) in self.stored {
            out.persisted.push((v.voucher_id, m.message_id.clone()));
            out.delete.push(m);
        }
        for (i, f) in self.poison.into_iter().enumerate() {
            let dead = dead_lettered.contains(&i);
            out.records.push(record(&f, ctx, now, dead));
            if dead {
                out.counts.dead_lettered += 1;
                out.delete.push(f.msg);
            }
        }
        for f in self.retry {
            let moved_by_sqs = f.msg.receive_count >= ctx.max_receive_count;
            out.records.push(record(&f, ctx, now, moved_by_sqs));
            let wait = backoff(f.msg.receive_count, ctx.backoff_base, ctx.backoff_max);
            out.back_off.push((f.msg, wait));
        }
        out.counts.persisted = out.persisted.len() as u64;
        out.counts.failed = out.records.len() as u64;
        out
    }
}

fn record(
    f: &Failure,
    ctx: &BatchContext<'_>,
    now: Timestamp,
    dead_lettered: bool,
) -> FailureRecord {
    FailureRecord {
        record_id: Uuid::now_v7(),
        at: now,
        queue: ctx.queue.to_string(),
        message_id: f.msg.message_id.clone(),
        voucher_id: f.voucher.as_ref().map(|(id, _)| *id),
        recipient: f.voucher.as_ref().map(|(_, r)| r.clone()),
        kind: f.kind,
        // Every dashboard reads the failure log: an address a reason quotes is masked there.
        reason: redact(&f.reason),
        receive_count: f.msg.receive_count,
        worker: ctx.worker.to_string(),
        dead_lettered,
        group: f.msg.group.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::decoded::fixtures::{CTX, batch, ids};
    use super::*;
    use voucherdeck_core::domain::Persisted;
    use voucherdeck_core::ports::BackendError;

    fn stored_ok() -> Vec<Persisted> {
        vec![Persisted::Created, Persisted::Identical]
    }

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_secs(2);
        let max = Duration::from_mins(1);
        assert!(backoff(1, base, max) >= Duration::from_secs(2));
        assert!(backoff(1, base, max) <= Duration::from_millis(2500));
        assert!(backoff(3, base, max) >= Duration::from_secs(8));
        assert_eq!(backoff(30, base, max), max);
    }

    #[test]
    fn dead_letters_carry_their_diagnosis() {
        let letters = batch().judge(Ok(stored_ok())).dead_letters(&CTX);
        assert_eq!(letters.len(), 2);
        assert_eq!(letters[0].id, "0");
        assert_eq!(letters[0].attributes["voucherdeck.error_kind"], "not_json");
        assert_eq!(letters[1].attributes["voucherdeck.error_kind"], "schema");
        assert_eq!(
            letters[1].attributes["voucherdeck.source_queue"],
            "vouchers"
        );
    }

    #[test]
    fn persisted_and_dead_lettered_are_deleted() {
        let sent = HashSet::from([1]);
        let out = batch()
            .judge(Ok(stored_ok()))
            .outcome(&sent, &CTX, Timestamp(5));
        assert_eq!(ids(&out.delete), ["v1", "v2", "p2"]);
        assert!(out.back_off.is_empty());
        assert_eq!(out.persisted.len(), 2, "created and identical alike");
        let flags: Vec<(&str, bool)> = out
            .records
            .iter()
            .map(|r| (r.message_id.as_str(), r.dead_lettered))
            .collect();
        assert_eq!(flags, [("p1", false), ("p2", true)]);
        assert!(out.records.iter().all(|r| r.at == Timestamp(5)));
        let counts = ConsumerStats {
            received: 0,
            persisted: 2,
            failed: 2,
            dead_lettered: 1,
        };
        assert_eq!(out.counts, counts);
    }

    #[test]
    fn a_store_failure_backs_every_voucher_off() {
        let down = BackendError::Throttled("slow down".into());
        let out = batch()
            .judge(Err(down))
            .outcome(&HashSet::new(), &CTX, Timestamp(5));
        assert!(out.delete.is_empty(), "poison stays until the DLQ has it");
        let waits: Vec<(&str, Duration)> = out
            .back_off
            .iter()
            .map(|(m, d)| (m.message_id.as_str(), *d))
            .collect();
        assert_eq!(waits[0].0, "v1");
        assert!(waits[0].1 >= Duration::from_secs(2) && waits[0].1 < Duration::from_secs(3));
        assert_eq!(waits[1].0, "v2");
        assert!(waits[1].1 >= Duration::from_secs(8));
        let retries: Vec<(FailureKind, bool)> = out.records[2..]
            .iter()
            .map(|r| (r.kind, r.dead_lettered))
            .collect();
        // The second was received maxReceiveCount times: SQS moves it to the DLQ next.
        assert_eq!(
            retries,
            [
                (FailureKind::Throttled, false),
                (FailureKind::Throttled, true)
            ]
        );
        assert!(out.records[2].voucher_id.is_some());
        assert_eq!(out.counts.persisted, 0);
        assert_eq!(out.counts.failed, 4);
        assert_eq!(out.counts.dead_lettered, 0);
    }
}
