//! The message group and deduplication id of everything voucherdeck sends. A FIFO queue needs
//! both on every send (it refuses a message without a group, and delivers a group in order); a
//! standard queue uses the group for fair delivery across senders and ignores the rest.
//!
//! Deduplication ids make a send retried within SQS's 5-minute window a no-op: a voucher is
//! deduplicated by its id, a copy of a received message (to the DLQ, or redriven back) by that
//! message's id, an edited resend by the message's id and the edit.

use uuid::Uuid;

use voucherdeck_core::domain::limits::{dedup_id_of, group_id_of};
use voucherdeck_core::ports::ReceivedMessage;

/// The attribute naming a voucher message's sender.
pub(crate) const SENDER: &str = "voucherdeck.sender";
/// The group of messages that have neither a group nor a sender (a body sent by hand).
const UNGROUPED: &str = "voucherdeck";

/// A voucher's message: its sender's group, and its id as the deduplication id.
pub(crate) fn voucher_ids(sender: &str, voucher_id: Uuid) -> (String, String) {
    (group_id_of(sender), voucher_id.to_string())
}

/// The group a received message is sent again with (to the DLQ, or back to its queue): its own,
/// else its sender's, else one shared group.
pub(crate) fn group_again(m: &ReceivedMessage) -> String {
    m.group.clone().unwrap_or_else(|| {
        m.attributes
            .get(SENDER)
            .map_or_else(|| UNGROUPED.to_string(), |s| group_id_of(s))
    })
}

/// The deduplication id of a copy of `m` as it is (its DLQ copy, or a redrive of it).
pub(crate) fn copy_dedup(m: &ReceivedMessage) -> String {
    m.message_id.clone()
}

/// The deduplication id of `m` resent with the new body `body`.
pub(crate) fn edit_dedup(m: &ReceivedMessage, body: &str) -> String {
    dedup_id_of(&m.message_id, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn received(group: Option<&str>, sender: Option<&str>) -> ReceivedMessage {
        ReceivedMessage {
            message_id: "m-1".into(),
            receipt: "r".into(),
            body: "{}".into(),
            attributes: sender
                .map(|s| BTreeMap::from([(SENDER.to_string(), s.to_string())]))
                .unwrap_or_default(),
            receive_count: 1,
            sent_at: None,
            first_received_at: None,
            sender_id: None,
            group: group.map(Into::into),
        }
    }

    #[test]
    fn a_message_keeps_its_group_else_takes_its_senders() {
        assert_eq!(group_again(&received(Some("g"), Some("acme"))), "g");
        assert_eq!(group_again(&received(None, Some("acme"))), "acme");
        assert_eq!(
            group_again(&received(None, Some("ops team"))),
            group_id_of("ops team")
        );
        assert_eq!(group_again(&received(None, None)), UNGROUPED);
    }

    #[test]
    fn an_edit_is_deduplicated_by_message_and_content() {
        let m = received(None, None);
        assert_eq!(edit_dedup(&m, "a"), edit_dedup(&m, "a"));
        assert_ne!(edit_dedup(&m, "a"), edit_dedup(&m, "b"));
        assert!(edit_dedup(&m, "a").starts_with("m-1-"));
        assert_eq!(copy_dedup(&m), "m-1");
    }
}
