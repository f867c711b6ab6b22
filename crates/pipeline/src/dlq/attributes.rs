//! The diagnosis the consumer puts on a message it sends to the DLQ, as message attributes: written
//! here, read by the DLQ browser, stripped by redrive (a fresh attempt starts clean). Every value is
//! made of characters SQS accepts; the message's own attributes are kept as far as SQS's limit of
//! 10 allows.

use std::collections::BTreeMap;

use voucherdeck_core::domain::limits::{MESSAGE_ATTRIBUTES_MAX, check_attribute_name, sqs_text};
use voucherdeck_core::domain::{FailureKind, Timestamp, text};
use voucherdeck_core::ports::ReceivedMessage;

/// Every attribute voucherdeck sets starts with this.
pub(crate) const PREFIX: &str = "voucherdeck.";
pub(crate) const ERROR_KIND: &str = "voucherdeck.error_kind";
pub(crate) const ERROR_MESSAGE: &str = "voucherdeck.error_message";
pub(crate) const WORKER: &str = "voucherdeck.worker";
pub(crate) const FIRST_SEEN: &str = "voucherdeck.first_seen";
pub(crate) const SOURCE_QUEUE: &str = "voucherdeck.source_queue";
pub(crate) const RECEIVE_COUNT: &str = "voucherdeck.receive_count";
/// The copy redrive that last sent the message back (not a diagnosis: it stays on the message, so
/// a redriven message that fails again is known to that redrive, which does not move it twice).
pub(crate) const REDRIVE_RUN: &str = "voucherdeck.redrive_run";

/// Longest error message kept in an attribute, in characters.
const MAX_ERROR_MESSAGE: usize = 1000;

/// Why the consumer dead-letters a message, and who did it from where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Diagnosis<'a> {
    pub kind: FailureKind,
    pub reason: &'a str,
    pub worker: &'a str,
    pub source_queue: &'a str,
}

/// The attributes of the DLQ copy of `msg`: the diagnosis, then the message's own attributes as
/// far as SQS's limit of 10 allows (never overriding the diagnosis).
pub(crate) fn with_diagnosis(msg: &ReceivedMessage, d: &Diagnosis<'_>) -> BTreeMap<String, String> {
    let first_seen = msg.first_received_at.unwrap_or_else(Timestamp::now);
    let mut attributes: BTreeMap<String, String> = [
        (ERROR_KIND, d.kind.to_string()),
        (ERROR_MESSAGE, text::truncate(d.reason, MAX_ERROR_MESSAGE)),
        (WORKER, d.worker.to_string()),
        (FIRST_SEEN, first_seen.to_string()),
        (SOURCE_QUEUE, d.source_queue.to_string()),
        (RECEIVE_COUNT, msg.receive_count.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), sqs_text(&v)))
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let own = msg
        .attributes
        .get_key_value(REDRIVE_RUN)
        .into_iter()
        .chain(&msg.attributes);
    for (k, v) in own {
        if attributes.len() >= MESSAGE_ATTRIBUTES_MAX {
            break;
        }
        if check_attribute_name(k).is_ok() && !v.is_empty() {
            attributes.entry(k.clone()).or_insert_with(|| sqs_text(v));
        }
    }
    attributes
}

/// Whether an attribute is part of voucherdeck's diagnosis (the rest is the message's own).
pub(crate) fn is_diagnosis(name: &str) -> bool {
    name.starts_with(PREFIX) && name != REDRIVE_RUN
}

/// A message's attributes without voucherdeck's diagnosis.
pub(crate) fn without_diagnosis(attributes: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter(|(k, _)| !k.starts_with(PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_comes_first_and_is_stripped_again() {
        let own: BTreeMap<String, String> = (0..8)
            .map(|i| (format!("own{i}"), i.to_string()))
            .chain([(ERROR_KIND.to_string(), "old".to_string())])
            .collect();
        let msg = ReceivedMessage {
            message_id: "m".into(),
            receipt: "r".into(),
            body: "{}".into(),
            attributes: own,
            receive_count: 3,
            sent_at: None,
            first_received_at: Some(Timestamp(0)),
            sender_id: None,
            group: None,
        };
        let d = Diagnosis {
            kind: FailureKind::Schema,
            reason: &format!("a\u{1b}[31m\u{0}{}", "x".repeat(2000)),
            worker: "w",
            source_queue: "q",
        };
        let a = with_diagnosis(&msg, &d);
        assert_eq!(a.len(), MESSAGE_ATTRIBUTES_MAX);
        assert_eq!(a[ERROR_KIND], "schema");
        assert_eq!(a[RECEIVE_COUNT], "3");
        assert!(a[ERROR_MESSAGE].chars().count() <= MAX_ERROR_MESSAGE);
        assert!(
            a[ERROR_MESSAGE].starts_with("a\u{fffd}[31m\u{fffd}x"),
            "control characters replaced"
        );
        let rules = voucherdeck_core::domain::limits::check_message("{}", &a, usize::MAX);
        assert_eq!(rules, Ok(()), "SQS accepts every attribute");
        let clean = without_diagnosis(&a);
        assert_eq!(clean.len(), 4);
        assert!(clean.keys().all(|k| k.starts_with("own")));
    }
}
