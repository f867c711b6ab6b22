//! Decoding a received batch: who sent each message (with `trusted_senders`), whether its body is
//! a valid voucher; then judging the vouchers by the store's answer (stored, identical to what is
//! stored, or in conflict with it). No I/O.

use uuid::Uuid;

use super::plan::{Failure, Judged};
use voucherdeck_core::domain::{
    DecodeError, FailureKind, Limits, Persisted, TrustedSenders, Voucher, decode, mask,
};
use voucherdeck_core::ports::{BackendError, ReceivedMessage};

/// A received batch, decoded: vouchers to persist, and poison for the DLQ (untrusted sender, not
/// JSON, wrong schema or version, invalid voucher).
#[derive(Debug)]
pub(super) struct Decoded {
    valid: Vec<(ReceivedMessage, Voucher)>,
    poison: Vec<Failure>,
}

impl Decoded {
    /// Decodes a batch; with `trusted`, a message from another sender is poison, whatever it says.
    pub(super) fn new(
        msgs: Vec<ReceivedMessage>,
        limits: Limits,
        trusted: Option<&TrustedSenders>,
    ) -> Self {
        let mut valid = Vec::new();
        let mut poison = Vec::new();
        for m in msgs {
            let sender = m.sender_id.as_deref();
            let verdict = match trusted {
                Some(t) if !t.trusts(sender) => Err((
                    FailureKind::UntrustedSender,
                    TrustedSenders::refusal(sender),
                )),
                _ => decode(&m.body, &limits).map_err(|e| (decode_kind(&e), e.to_string())),
            };
            match verdict {
                Ok(v) => valid.push((m, v)),
                Err((kind, reason)) => poison.push(Failure {
                    kind,
                    reason,
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

    /// The vouchers to persist, in order.
    pub(super) fn vouchers(&self) -> Vec<Voucher> {
        self.valid.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Judges the vouchers by the store's answer (one outcome per voucher, in order): created and
    /// identical ones are stored, a conflict is poison (the stored voucher is unchanged), and a store
    /// failure leaves every voucher for redelivery after a backoff.
    pub(super) fn judge(self, persisted: Result<Vec<Persisted>, BackendError>) -> Judged {
        let n = self.valid.len();
        let each = match persisted {
            Ok(p) if p.len() == n => p.into_iter().map(Ok).collect(),
            Ok(p) => vec![
                Err(BackendError::Other(format!(
                    "the store answered {} outcomes for {n} vouchers",
                    p.len()
                )));
                n
            ],
            Err(e) => vec![Err(e); n],
        };
        self.judge_each(each)
    }

    /// Judges each voucher by its own answer from the store (one per voucher, in order): a
    /// voucher whose write failed is left for redelivery, the others are judged as in `judge`.
    pub(super) fn judge_each(self, persisted: Vec<Result<Persisted, BackendError>>) -> Judged {
        let mut judged = Judged {
            stored: Vec::new(),
            poison: self.poison,
            retry: Vec::new(),
        };
        let missing = BackendError::Other("the store gave no outcome for this voucher".into());
        let outcomes = persisted
            .into_iter()
            .chain(std::iter::repeat_with(|| Err(missing.clone())));
        for ((msg, v), outcome) in self.valid.into_iter().zip(outcomes) {
            let voucher = Some((v.voucher_id, v.recipient.masked()));
            match outcome {
                Ok(Persisted::Created | Persisted::Identical) => judged.stored.push((msg, v)),
                Ok(Persisted::Conflict { stored_hash }) => judged.poison.push(Failure {
                    msg,
                    kind: FailureKind::Conflict,
                    reason: conflict_reason(&v, &stored_hash),
                    voucher,
                }),
                Err(e) => judged.retry.push(Failure {
                    msg,
                    kind: e.failure_kind(),
                    reason: e.to_string(),
                    voucher,
                }),
            }
        }
        judged
    }
}

/// Why a voucher in conflict with the stored one is refused, with both content hashes.
fn conflict_reason(v: &Voucher, stored_hash: &str) -> String {
    format!(
        "voucher {} is already stored with other content (stored sha256 {stored_hash}, this \
         message sha256 {}); the stored voucher is unchanged",
        v.voucher_id,
        v.content_hash()
    )
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
pub(super) mod fixtures {
    use std::time::Duration;

    use super::*;
    use crate::consumer::plan::BatchContext;
    use voucherdeck_core::domain::{GiftRequest, Timestamp, encode, validate};

    pub(crate) const CTX: BatchContext<'static> = BatchContext {
        queue: "vouchers",
        worker: "w1",
        max_receive_count: 3,
        backoff_base: Duration::from_secs(2),
        backoff_max: Duration::from_mins(1),
    };

    pub(crate) fn message(id: &str, body: String, receive_count: u32) -> ReceivedMessage {
        ReceivedMessage {
            message_id: id.into(),
            receipt: format!("r-{id}"),
            body,
            attributes: std::collections::BTreeMap::new(),
            receive_count,
            sent_at: None,
            first_received_at: None,
            sender_id: Some("AROAINTAKE:gift-7".into()),
            group: None,
        }
    }

    pub(crate) fn voucher() -> Voucher {
        let gift = GiftRequest {
            recipient: "ada@example.com".into(),
            amount: "3.00".into(),
            sender: "ops".into(),
            ..GiftRequest::default()
        };
        let valid = validate(&gift, &Limits::default()).expect("valid gift");
        Voucher::new(valid, Timestamp(0))
    }

    /// Two vouchers (received once and three times) and two poison messages.
    pub(crate) fn batch() -> Decoded {
        let msgs = vec![
            message("v1", encode(&voucher()), 1),
            message("p1", "not json".into(), 1),
            message("v2", encode(&voucher()), 3),
            message("p2", r#"{"v":1,"hello":"world"}"#.into(), 2),
        ];
        Decoded::new(msgs, Limits::default(), None)
    }

    pub(crate) fn ids(msgs: &[ReceivedMessage]) -> Vec<&str> {
        msgs.iter().map(|m| m.message_id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::fixtures::{CTX, batch, ids, message, voucher};
    use super::*;
    use voucherdeck_core::domain::{Amount, Timestamp, encode};

    #[test]
    fn decoding_splits_vouchers_from_poison() {
        let d = batch();
        assert_eq!(d.vouchers().len(), 2);
        let order: Vec<&str> = d.messages().map(|m| m.message_id.as_str()).collect();
        assert_eq!(order, ["v1", "v2", "p1", "p2"]);
    }

    #[test]
    fn untrusted_senders_are_poison_whatever_they_say() {
        let trusted = TrustedSenders::parse(&["AROAINTAKE"]).expect("ids");
        let mut forged = message("f", encode(&voucher()), 1);
        forged.sender_id = Some("AIDAMALLORY".into());
        let mut unsigned = message("u", encode(&voucher()), 1);
        unsigned.sender_id = None;
        let msgs = vec![message("ok", encode(&voucher()), 1), forged, unsigned];
        let judged = Decoded::new(msgs, Limits::default(), Some(&trusted))
            .judge(Ok(vec![Persisted::Created]));
        assert_eq!(
            ids(&judged
                .stored
                .iter()
                .map(|(m, _)| m.clone())
                .collect::<Vec<_>>()),
            ["ok"]
        );
        let kinds: Vec<(FailureKind, bool)> = judged
            .poison
            .iter()
            .map(|f| (f.kind, f.voucher.is_some()))
            .collect();
        assert_eq!(kinds, [(FailureKind::UntrustedSender, true); 2]);
        assert!(
            judged.poison[0]
                .reason
                .contains("AIDAMALLORY is not in trusted_senders")
        );
        assert!(judged.poison[1].reason.contains("no SenderId"));
    }

    #[test]
    fn a_conflict_is_poison_with_both_hashes() {
        let stored = voucher();
        let forged = Voucher {
            amount: Amount::from_cents(99_900),
            ..stored.clone()
        };
        let msgs = vec![message("m", encode(&forged), 1)];
        let judged =
            Decoded::new(msgs, Limits::default(), None).judge(Ok(vec![Persisted::Conflict {
                stored_hash: stored.content_hash(),
            }]));
        assert!(judged.stored.is_empty());
        let f = &judged.poison[0];
        assert_eq!(f.kind, FailureKind::Conflict);
        assert!(f.reason.contains(&stored.content_hash()), "{}", f.reason);
        assert!(f.reason.contains(&forged.content_hash()), "{}", f.reason);
        let out = judged.outcome(&HashSet::from([0]), &CTX, Timestamp(1));
        assert_eq!(ids(&out.delete), ["m"], "deleted once the DLQ has it");
        assert!(out.records[0].dead_lettered && out.records[0].kind.is_permanent());
        assert_eq!(
            out.records[0].recipient.as_deref(),
            Some("a***@example.com")
        );
    }

    #[test]
    fn a_short_answer_from_the_store_retries_everything() {
        let judged = batch().judge(Ok(vec![Persisted::Created]));
        assert!(judged.stored.is_empty());
        assert_eq!(judged.retry.len(), 2);
        assert_eq!(judged.retry[0].kind, FailureKind::Backend);
    }
}
