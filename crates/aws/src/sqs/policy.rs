//! Queue attributes and ARNs as text: what a spec asks for, whether a queue already says it, redrive
//! policies and ARNs built from URLs. No calls.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;

use voucherdeck_core::ports::{QueueRef, QueueSettings, QueueSpec, RedrivePolicy};

/// The attributes a spec asks for.
pub(super) fn spec_attributes(spec: &QueueSpec) -> HashMap<QueueAttributeName, String> {
    let mut attrs = HashMap::new();
    attrs.insert(
        QueueAttributeName::VisibilityTimeout,
        spec.visibility_timeout.as_secs().to_string(),
    );
    if let Some(r) = spec.retention {
        attrs.insert(
            QueueAttributeName::MessageRetentionPeriod,
            r.as_secs().to_string(),
        );
    }
    if let Some(size) = spec.max_message_size {
        attrs.insert(QueueAttributeName::MaximumMessageSize, size.to_string());
    }
    if spec.fifo {
        for (k, v) in [
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
            (QueueAttributeName::DeduplicationScope, "messageGroup"),
            (QueueAttributeName::FifoThroughputLimit, "perMessageGroupId"),
        ] {
            attrs.insert(k, v.to_string());
        }
    }
    if let Some(r) = &spec.redrive {
        let policy = serde_json::json!({
            "deadLetterTargetArn": r.dead_letter_arn,
            "maxReceiveCount": r.max_receive_count,
        });
        attrs.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    attrs
}

/// A queue's settings from its attributes (a value that cannot be read is `None`).
pub(super) fn settings_from(attrs: &HashMap<QueueAttributeName, String>) -> QueueSettings {
    let number = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.trim().parse::<u64>().ok());
    QueueSettings {
        visibility_timeout: number(QueueAttributeName::VisibilityTimeout).map(Duration::from_secs),
        retention: number(QueueAttributeName::MessageRetentionPeriod).map(Duration::from_secs),
        max_message_size: number(QueueAttributeName::MaximumMessageSize)
            .and_then(|n| usize::try_from(n).ok()),
        redrive: attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .and_then(|raw| parse_redrive_policy(raw)),
        // SQS reports FifoQueue on FIFO queues only.
        fifo: Some(
            attrs
                .get(&QueueAttributeName::FifoQueue)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        ),
    }
}

/// Parses `{"deadLetterTargetArn": "...", "maxReceiveCount": 5}` (the count may be a string).
pub(super) fn parse_redrive_policy(raw: &str) -> Option<RedrivePolicy> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let arn = v.get("deadLetterTargetArn")?.as_str()?.to_string();
    let count = match v.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(RedrivePolicy {
        dead_letter_arn: arn,
        max_receive_count: count,
    })
}

/// `arn:{partition}:sqs:{region}:{account}:{name}` from a queue URL ending in `/{account}/{name}`.
pub(super) fn arn_from_url(url: &str, name: &str, region: Option<&str>) -> Option<String> {
    let region = region?;
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let last = segments.next()?;
    let account = segments.next()?;
    if last != name || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    };
    Some(format!("arn:{partition}:sqs:{region}:{account}:{name}"))
}

/// A source queue of `dlq` from its URL: its name is the URL's last segment, its ARN the DLQ's
/// with that name (a redrive policy names a DLQ of the same account and region).
pub(super) fn source_ref(dlq: &QueueRef, url: String) -> QueueRef {
    let prefix = dlq.arn.rsplit_once(':').map_or("", |(p, _)| p);
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let arn = format!("{prefix}:{name}");
    QueueRef { name, url, arn }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_from_urls() {
        assert_eq!(
            arn_from_url(
                "http://127.0.0.1:5000/123456789012/vouchers",
                "vouchers",
                Some("us-east-1")
            )
            .as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:vouchers")
        );
        assert_eq!(
            arn_from_url(
                "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
                "q",
                Some("cn-north-1")
            )
            .as_deref(),
            Some("arn:aws-cn:sqs:cn-north-1:123456789012:q")
        );
        assert_eq!(
            arn_from_url("http://x/000000000000/q", "other", Some("us-east-1")),
            None
        );
        assert_eq!(arn_from_url("http://x/q", "q", Some("us-east-1")), None);
        assert_eq!(arn_from_url("http://x/123456789012/q", "q", None), None);
    }

    #[test]
    fn redrive_policies_parse_numbers_and_strings() {
        let a = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:x","maxReceiveCount":"5"}"#);
        let b = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:x","maxReceiveCount":5}"#);
        assert_eq!(a, b);
        assert_eq!(a.map(|p| p.max_receive_count), Some(5));
        assert_eq!(parse_redrive_policy("{}"), None);
    }
}
