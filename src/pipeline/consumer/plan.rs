//! The pure step of a batch: decode it, then, given the store's answer and the DLQ send's, decide
//! what happens to every message: delete it (persisted, or safely in the DLQ), dead-letter it (with
//! its kind and reason), or leave it for redelivery after a backoff; which failure records to
//! write; what it adds to the counts. No I/O.

use std::collections::HashSet;
use std::time::Duration;

use uuid::Uuid;

use crate::domain::{
    DecodeError, FailureKind, FailureRecord, Limits, Timestamp, Voucher, decode, mask,
};
use crate::pipeline::dlq::attributes::{Diagnosis, with_diagnosis};
use crate::ports::{BackendError, BatchResult, ConsumerStats, OutgoingMessage, ReceivedMessage};

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
struct Failure {
    msg: ReceivedMessage,
    kind: FailureKind,
    reason: String,
    /// Voucher id and masked recipient, where the body tells them.
    voucher: Option<(Uuid, String)>,
}

/// A received batch, decoded: vouchers to persist, and poison (not JSON, wrong schema or version,
/// invalid voucher) for the DLQ.
#[derive(Debug)]
pub(super) struct Decoded {
    valid: Vec<(ReceivedMessage, Voucher)>,
    poison: Vec<Failure>,
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
    /// Persisted vouchers and their message ids.
    pub persisted: Vec<(Uuid, String)>,
    /// What the batch adds to the consumer's counts (it was counted as received when it arrived).
    pub counts: ConsumerStats,
}

impl Decoded {
    pub(super) fn new(msgs: Vec<ReceivedMessage>, limits: Limits) -> Self {
        let mut valid = Vec::new();
        let mut poison = Vec::new();
        for m in msgs {
            match decode(&m.body, &limits) {
                Ok(v) => valid.push((m, v)),
                Err(e) => poison.push(Failure {
                    kind: decode_kind(&e),
                    reason: e.to_string(),
                    voucher: peek_identity(&m.body),
                    msg: m,
                }),
            }
        }
        Decoded { valid, poison }
    }

    /// Every message of the batch, valid ones first.
    pub(super) fn messages(&self) -> impl Iterator<Item = &ReceivedMessage> {
        self.valid
            .iter()
            .map(|(m, _)| m)
            .chain(self.poison.iter().map(|f| &f.msg))
    }

    /// The vouchers to persist.
    pub(super) fn vouchers(&self) -> Vec<Voucher> {
        self.valid.iter().map(|(_, v)| v.clone()).collect()
    }

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
                group: None,
            })
            .collect()
    }

    /// The plan, given the store's answer and the DLQ send's (`None`: nothing was sent). Poison
    /// is deleted only once the DLQ accepted it; vouchers only once persisted; a store failure
    /// leaves every voucher for redelivery after a backoff.
    pub(super) fn outcome(
        self,
        persisted: Result<(), &BackendError>,
        dlq_answer: Option<&BatchResult>,
        ctx: &BatchContext<'_>,
        now: Timestamp,
    ) -> BatchOutcome {
        let dead: HashSet<usize> = dlq_answer
            .map(|a| {
                a.succeeded
                    .iter()
                    .filter_map(|id| id.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let mut out = BatchOutcome::default();
        let mut retry = Vec::new();
        match persisted {
            Ok(()) => {
                for (m, v) in self.valid {
                    out.persisted.push((v.voucher_id, m.message_id.clone()));
                    out.delete.push(m);
                }
            }
            Err(e) => retry.extend(self.valid.into_iter().map(|(msg, v)| Failure {
                msg,
                kind: e.failure_kind(),
                reason: e.to_string(),
                voucher: Some((v.voucher_id, v.recipient.masked())),
            })),
        }
        for (i, f) in self.poison.into_iter().enumerate() {
            let dead_lettered = dead.contains(&i);
            out.records.push(record(&f, ctx, now, dead_lettered));
            if dead_lettered {
                out.counts.dead_lettered += 1;
                out.delete.push(f.msg);
            }
        }
        for f in retry {
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
        reason: f.reason.clone(),
        receive_count: f.msg.receive_count,
        worker: ctx.worker.to_string(),
        dead_lettered,
    }
}

/// The wait before a retryable failure is received again: doubling with each receive, with jitter.
fn backoff(receive_count: u32, base: Duration, max: Duration) -> Duration {
    let exp = receive_count.saturating_sub(1).min(20);
    let d = base.saturating_mul(1 << exp).min(max);
    let jitter = d.mul_f64(fastrand::f64() * 0.25);
    (d + jitter).min(max)
}

fn decode_kind(e: &DecodeError) -> FailureKind {
    match e {
        DecodeError::NotJson(_) => FailureKind::NotJson,
        DecodeError::UnsupportedVersion(_) | DecodeError::Schema(_) => FailureKind::Schema,
        DecodeError::Invalid(_) => FailureKind::Invalid,
    }
}

/// Best-effort voucher id and masked recipient from a body that failed to decode.
fn peek_identity(body: &str) -> Option<(Uuid, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let id = v.get("voucher_id")?.as_str()?.parse().ok()?;
    let recipient = v
        .get("recipient")
        .and_then(|r| r.get("address").or(Some(r)))
        .and_then(serde_json::Value::as_str)
        .map(mask)
        .unwrap_or_default();
    Some((id, recipient))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GiftRequest, encode, validate};

    const CTX: BatchContext<'static> = BatchContext {
        queue: "vouchers",
        worker: "w1",
        max_receive_count: 3,
        backoff_base: Duration::from_secs(2),
        backoff_max: Duration::from_mins(1),
    };

    fn message(id: &str, body: String, receive_count: u32) -> ReceivedMessage {
        ReceivedMessage {
            message_id: id.into(),
            receipt: format!("r-{id}"),
            body,
            attributes: std::collections::BTreeMap::new(),
            receive_count,
            sent_at: None,
            first_received_at: None,
        }
    }

    fn voucher_body() -> String {
        let gift = GiftRequest {
            recipient: "ada@example.com".into(),
            amount: "3.00".into(),
            sender: "ops".into(),
            ..GiftRequest::default()
        };
        let valid = validate(&gift, &Limits::default()).expect("valid gift");
        encode(&Voucher::new(valid, Timestamp(0)))
    }

    /// Two vouchers (received once and three times) and two poison messages.
    fn batch() -> Decoded {
        let msgs = vec![
            message("v1", voucher_body(), 1),
            message("p1", "not json".into(), 1),
            message("v2", voucher_body(), 3),
            message("p2", r#"{"v":1,"hello":"world"}"#.into(), 2),
        ];
        Decoded::new(msgs, Limits::default())
    }

    fn ids(msgs: &[ReceivedMessage]) -> Vec<&str> {
        msgs.iter().map(|m| m.message_id.as_str()).collect()
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
    fn decoding_splits_vouchers_from_poison() {
        let d = batch();
        assert_eq!(d.vouchers().len(), 2);
        let order: Vec<&str> = d.messages().map(|m| m.message_id.as_str()).collect();
        assert_eq!(order, ["v1", "v2", "p1", "p2"]);
        let letters = d.dead_letters(&CTX);
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
        let sent = BatchResult {
            succeeded: vec!["1".into()],
            failed: Vec::new(),
        };
        let out = batch().outcome(Ok(()), Some(&sent), &CTX, Timestamp(5));
        assert_eq!(ids(&out.delete), ["v1", "v2", "p2"]);
        assert!(out.back_off.is_empty());
        assert_eq!(out.persisted.len(), 2);
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
        let out = batch().outcome(Err(&down), None, &CTX, Timestamp(5));
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
