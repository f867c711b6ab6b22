//! DynamoDB items for vouchers and failure records, and back.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use voucherdeck_core::domain::{Amount, FailureKind, FailureRecord, Recipient, Timestamp, Voucher};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// How long failure records live (DynamoDB TTL).
pub(crate) const FAILURE_RETENTION: Duration = Duration::from_hours(14 * 24);

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Epoch seconds for a TTL attribute.
pub(crate) fn epoch_secs(t: Timestamp) -> i64 {
    t.millis().div_euclid(1000)
}

/// The voucher table's item.
pub(crate) fn voucher_item(v: &Voucher, persisted_at: Timestamp) -> Item {
    let (kind, address) = match &v.recipient {
        Recipient::Email(a) => ("email", a),
        Recipient::Wallet(a) => ("wallet", a),
    };
    let mut item = Item::from([
        ("voucher_id".to_string(), s(v.voucher_id.to_string())),
        ("created_at".to_string(), s(v.created_at.to_string())),
        ("recipient".to_string(), s(address.clone())),
        ("recipient_kind".to_string(), s(kind)),
        ("amount".to_string(), n(&v.amount)),
        ("currency".to_string(), s(v.currency.clone())),
        ("sender".to_string(), s(v.sender.clone())),
        ("persisted_at".to_string(), s(persisted_at.to_string())),
        ("content_hash".to_string(), s(v.content_hash())),
    ]);
    if let Some(note) = &v.note {
        item.insert("note".into(), s(note.clone()));
    }
    if let Some(key) = &v.idempotency_key {
        item.insert("idempotency_key".into(), s(key.clone()));
    }
    item
}

fn get_s<'a>(item: &'a Item, key: &str) -> Result<&'a str, String> {
    match item.get(key) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(format!("attribute {key} is not a string")),
        None => Err(format!("attribute {key} is missing")),
    }
}

fn get_n<'a>(item: &'a Item, key: &str) -> Result<&'a str, String> {
    match item.get(key) {
        Some(AttributeValue::N(v)) => Ok(v),
        Some(_) => Err(format!("attribute {key} is not a number")),
        None => Err(format!("attribute {key} is missing")),
    }
}

fn opt_s(item: &Item, key: &str) -> Option<String> {
    match item.get(key) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

fn uuid(item: &Item, key: &str) -> Result<Uuid, String> {
    get_s(item, key)?
        .parse()
        .map_err(|e| format!("attribute {key} is not a UUID: {e}"))
}

fn timestamp(item: &Item, key: &str) -> Result<Timestamp, String> {
    let raw = get_s(item, key)?;
    Timestamp::parse_rfc3339(raw).ok_or_else(|| format!("attribute {key} is not RFC 3339: {raw:?}"))
}

/// A voucher read back from its item.
pub(crate) fn voucher_from_item(item: &Item) -> Result<Voucher, String> {
    let address = get_s(item, "recipient")?.to_string();
    let recipient = match get_s(item, "recipient_kind")? {
        "email" => Recipient::Email(address),
        "wallet" => Recipient::Wallet(address),
        other => return Err(format!("unknown recipient_kind {other:?}")),
    };
    let raw_amount = get_n(item, "amount")?;
    let amount: Amount = raw_amount
        .parse()
        .map_err(|e| format!("amount {raw_amount:?} {e}"))?;
    Ok(Voucher {
        voucher_id: uuid(item, "voucher_id")?,
        created_at: timestamp(item, "created_at")?,
        recipient,
        amount,
        currency: get_s(item, "currency")?.to_string(),
        sender: get_s(item, "sender")?.to_string(),
        note: opt_s(item, "note"),
        idempotency_key: opt_s(item, "idempotency_key"),
    })
}

/// The voucher id a voucher table item is stored under (empty if it has none).
pub(crate) fn voucher_key(item: &Item) -> String {
    match item.get("voucher_id") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The content hash of a stored voucher: the one stored with it, or (an item written before hashes
/// were kept) the hash of the voucher it holds.
pub(crate) fn stored_hash(item: &Item) -> Result<String, String> {
    match item.get("content_hash") {
        Some(AttributeValue::S(h)) if !h.is_empty() => Ok(h.clone()),
        _ => voucher_from_item(item).map(|v| v.content_hash()),
    }
}

/// The failure table's sort key: newest last in string order, unique per record.
pub(crate) fn failure_sort_key(r: &FailureRecord) -> String {
    format!("{}#{}", r.at, r.record_id)
}

/// The failure table's item (partition `day`, sort `sk`, TTL `expires_at`).
pub(crate) fn failure_item(r: &FailureRecord) -> Item {
    let mut item = Item::from([
        ("day".to_string(), s(r.at.day())),
        ("sk".to_string(), s(failure_sort_key(r))),
        ("record_id".to_string(), s(r.record_id.to_string())),
        ("at".to_string(), s(r.at.to_string())),
        ("queue".to_string(), s(r.queue.clone())),
        ("message_id".to_string(), s(r.message_id.clone())),
        ("kind".to_string(), s(r.kind.as_str())),
        ("reason".to_string(), s(r.reason.clone())),
        ("receive_count".to_string(), n(&r.receive_count)),
        ("worker".to_string(), s(r.worker.clone())),
        (
            "dead_lettered".to_string(),
            AttributeValue::Bool(r.dead_lettered),
        ),
        (
            "expires_at".to_string(),
            n(&epoch_secs(r.at.plus(FAILURE_RETENTION))),
        ),
    ]);
    if let Some(id) = r.voucher_id {
        item.insert("voucher_id".into(), s(id.to_string()));
    }
    if let Some(rcpt) = &r.recipient {
        item.insert("recipient".into(), s(rcpt.clone()));
    }
    if let Some(group) = &r.group {
        item.insert("group".into(), s(group.clone()));
    }
    item
}

/// A failure record read back from its item.
pub(crate) fn failure_from_item(item: &Item) -> Result<FailureRecord, String> {
    let kind_raw = get_s(item, "kind")?;
    let receive_raw = get_n(item, "receive_count")?;
    Ok(FailureRecord {
        record_id: uuid(item, "record_id")?,
        at: timestamp(item, "at")?,
        queue: get_s(item, "queue")?.to_string(),
        message_id: get_s(item, "message_id")?.to_string(),
        voucher_id: match item.get("voucher_id") {
            Some(_) => Some(uuid(item, "voucher_id")?),
            None => None,
        },
        recipient: opt_s(item, "recipient"),
        kind: FailureKind::parse(kind_raw)
            .ok_or_else(|| format!("unknown failure kind {kind_raw:?}"))?,
        reason: get_s(item, "reason")?.to_string(),
        receive_count: receive_raw
            .parse()
            .map_err(|_| format!("receive_count {receive_raw:?} is not a count"))?,
        worker: get_s(item, "worker")?.to_string(),
        dead_lettered: matches!(item.get("dead_lettered"), Some(AttributeValue::Bool(true))),
        group: opt_s(item, "group"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher() -> Voucher {
        Voucher {
            voucher_id: Uuid::now_v7(),
            created_at: Timestamp(1_764_072_187_123),
            recipient: Recipient::Wallet("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed".into()),
            amount: Amount::from_cents(2500),
            currency: "EUR".into(),
            sender: "ops".into(),
            note: Some("thanks".into()),
            idempotency_key: None,
        }
    }

    #[test]
    fn vouchers_round_trip() {
        let v = voucher();
        let item = voucher_item(&v, Timestamp(1_764_072_190_000));
        assert_eq!(item.get("amount"), Some(&AttributeValue::N("25.00".into())));
        assert_eq!(voucher_from_item(&item), Ok(v.clone()));
        assert_eq!(stored_hash(&item), Ok(v.content_hash()));
        let mut unhashed = item.clone();
        unhashed.remove("content_hash");
        assert_eq!(stored_hash(&unhashed), Ok(v.content_hash()));
        // DynamoDB normalises numbers: 25.00 comes back as 25.
        let mut normalised = item;
        normalised.insert("amount".into(), AttributeValue::N("25".into()));
        assert_eq!(
            voucher_from_item(&normalised).map(|x| x.amount),
            Ok(v.amount)
        );
    }

    #[test]
    fn failures_round_trip() {
        let r = FailureRecord {
            record_id: Uuid::now_v7(),
            at: Timestamp(1_764_072_187_123),
            queue: "vouchers".into(),
            message_id: "m-1".into(),
            voucher_id: None,
            recipient: Some("a***@example.com".into()),
            kind: FailureKind::Throttled,
            reason: "slow down".into(),
            receive_count: 3,
            worker: "w1".into(),
            dead_lettered: true,
            group: Some("acme".into()),
        };
        let item = failure_item(&r);
        assert_eq!(
            item.get("day"),
            Some(&AttributeValue::S("2025-11-25".into()))
        );
        assert_eq!(
            item.get("expires_at"),
            Some(&AttributeValue::N(
                (1_764_072_187 + 14 * 86_400).to_string()
            ))
        );
        assert_eq!(failure_from_item(&item), Ok(r));
    }
}
