//! An SQS event as the consumer reads it: each record becomes a received message (body, message
//! attributes, receive count, sent and first-received times, sender, group), and the event source's ARN
//! names the source queue.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::ReceivedMessage;

/// The event's messages in order, and the source queue its records name (`None` when none does).
/// A record without a `messageId` cannot be answered for: the whole event is refused, so that
/// every message comes back.
pub fn messages(event: SqsEvent) -> Result<(Vec<ReceivedMessage>, Option<String>), String> {
    let mut queue = None;
    let mut out = Vec::with_capacity(event.records.len());
    for (i, record) in event.records.into_iter().enumerate() {
        if queue.is_none() {
            queue = record.event_source_arn.as_deref().and_then(queue_of_arn);
        }
        out.push(message(record).ok_or_else(|| {
            format!(
                "Records[{i}].messageId: missing; a partial batch answer needs every message's id"
            )
        })?);
    }
    Ok((out, queue))
}

/// The queue name of an SQS ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
fn queue_of_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, _, name] if !name.is_empty() => Some((*name).to_string()),
        _ => None,
    }
}

fn message(record: SqsMessage) -> Option<ReceivedMessage> {
    let message_id = record.message_id.filter(|id| !id.is_empty())?;
    let system = &record.attributes;
    let millis = |name: &str| system.get(name).and_then(|v| v.parse().ok()).map(Timestamp);
    // String and Number attributes carry a string value; binary ones are not the consumer's.
    let attributes: BTreeMap<String, String> = record
        .message_attributes
        .into_iter()
        .filter_map(|(name, a)| a.string_value.map(|v| (name, v)))
        .collect();
    Some(ReceivedMessage {
        message_id,
        receipt: record.receipt_handle.unwrap_or_default(),
        body: record.body.unwrap_or_default(),
        attributes,
        receive_count: system
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        sent_at: millis("SentTimestamp"),
        first_received_at: millis("ApproximateFirstReceiveTimestamp"),
        sender_id: system.get("SenderId").cloned(),
        // A FIFO queue's records say their group.
        group: system.get("MessageGroupId").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as AWS documents the SQS event for Lambda.
    const EVENT: &str = r#"{"Records":[{
        "messageId":"059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body":"test",
        "attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1545082649183",
            "SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":"1545082649185"},
        "messageAttributes":{"voucherdeck.sender":{"stringValue":"acme","stringListValues":[],
            "binaryListValues":[],"dataType":"String"}},
        "md5OfBody":"098f6bcd4621d373cade4e832627b4f6",
        "eventSource":"aws:sqs",
        "eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion":"us-east-2"}]}"#;

    #[test]
    fn a_documented_record_reads_as_a_received_message() {
        let event: SqsEvent = serde_json::from_str(EVENT).expect("event");
        let (msgs, queue) = messages(event).expect("messages");
        assert_eq!(queue.as_deref(), Some("my-queue"));
        let m = &msgs[0];
        assert_eq!(m.message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
        assert_eq!((m.receive_count, m.body.as_str()), (3, "test"));
        assert_eq!(m.sent_at, Some(Timestamp(1_545_082_649_183)));
        assert_eq!(m.first_received_at, Some(Timestamp(1_545_082_649_185)));
        assert_eq!(m.sender_id.as_deref(), Some("AIDAIENQZJOLO23YVJ4VO"));
        assert_eq!(m.attributes["voucherdeck.sender"], "acme");
    }

    #[test]
    fn a_record_without_its_id_refuses_the_event() {
        let event: SqsEvent = serde_json::from_str(r#"{"Records":[{"body":"x"}]}"#).expect("event");
        let e = messages(event).expect_err("refused");
        assert!(e.starts_with("Records[0].messageId"), "{e}");
    }

    #[test]
    fn only_sqs_arns_name_a_queue() {
        assert_eq!(
            queue_of_arn("arn:aws:sqs:eu-west-1:1:q").as_deref(),
            Some("q")
        );
        assert_eq!(queue_of_arn("arn:aws:sns:eu-west-1:1:q"), None);
        assert_eq!(queue_of_arn("q"), None);
    }
}
