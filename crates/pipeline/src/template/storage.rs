//! The queues and tables as CloudFormation resources, from the specs `provision` creates them by.

use serde_json::{Map, Value, json};

use super::cfn::{get_att, reference, text};
use voucherdeck_core::domain::TableDef;
use voucherdeck_core::ports::QueueSpec;

/// The queue's logical id in the template, and the DLQ's.
pub const QUEUE: &str = "Queue";
pub const DLQ: &str = "DeadLetterQueue";

/// A queue as `spec` says (its name a token, its visibility the `VisibilityTimeout` parameter);
/// with a redrive policy, to the template's DLQ after `MaxReceiveCount` receives.
pub fn queue(spec: &QueueSpec) -> Value {
    let mut p = Map::new();
    p.insert("QueueName".into(), text(&spec.name));
    p.insert("VisibilityTimeout".into(), reference("VisibilityTimeout"));
    if let Some(r) = spec.retention {
        p.insert("MessageRetentionPeriod".into(), json!(r.as_secs()));
    }
    if let Some(size) = spec.max_message_size {
        p.insert("MaximumMessageSize".into(), json!(size));
    }
    if spec.fifo {
        // As provision creates a FIFO queue: content-based deduplication, high-throughput mode.
        p.insert("FifoQueue".into(), json!(true));
        p.insert("ContentBasedDeduplication".into(), json!(true));
        p.insert("DeduplicationScope".into(), json!("messageGroup"));
        p.insert("FifoThroughputLimit".into(), json!("perMessageGroupId"));
    }
    if spec.redrive.is_some() {
        p.insert(
            "RedrivePolicy".into(),
            json!({
                "deadLetterTargetArn": get_att(DLQ, "Arn"),
                "maxReceiveCount": reference("MaxReceiveCount"),
            }),
        );
    }
    retained("AWS::SQS::Queue", &Value::Object(p))
}

/// The tables' logical ids, in the order of `domain::tables` (vouchers, quotas, failure log,
/// audit log, keys).
pub const TABLE_IDS: [&str; 5] = [
    "VouchersTable",
    "QuotasTable",
    "FailuresTable",
    "AuditTable",
    "KeysTable",
];

/// A table as `def` says: on-demand, string keys, TTL where it has one.
pub fn table(def: &TableDef) -> Value {
    let mut keys = vec![(def.hash, "HASH")];
    if let Some(range) = def.range {
        keys.push((range, "RANGE"));
    }
    let mut p = json!({
        "TableName": text(&def.name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": keys.iter().map(|(k, _)| json!({"AttributeName": k, "AttributeType": "S"})).collect::<Vec<_>>(),
        "KeySchema": keys.iter().map(|(k, t)| json!({"AttributeName": k, "KeyType": t})).collect::<Vec<_>>(),
    });
    if let Some(ttl) = def.ttl {
        p["TimeToLiveSpecification"] = json!({"AttributeName": ttl, "Enabled": true});
    }
    retained("AWS::DynamoDB::Table", &p)
}

/// A resource that holds data: kept when the stack is deleted or the resource replaced.
fn retained(kind: &str, properties: &Value) -> Value {
    json!({
        "Type": kind,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    })
}
