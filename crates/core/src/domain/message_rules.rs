//! What SQS accepts in a message: its characters, attribute names, batch entry ids and size. The
//! embedded engine refuses what SQS refuses by these, and the consumer's dead letters are made to
//! fit them.

use std::collections::BTreeMap;

/// Most message attributes on one SQS message.
pub const MESSAGE_ATTRIBUTES_MAX: usize = 10;
/// Longest message attribute name.
pub const ATTRIBUTE_NAME_MAX: usize = 256;
/// Longest batch entry id.
pub const BATCH_ENTRY_ID_MAX: usize = 80;

/// Whether SQS accepts `c` in a message body or a String attribute value: `#x9 | #xA | #xD |
/// #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`.
pub fn is_sqs_text_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `s` with every character SQS refuses replaced by U+FFFD.
pub fn sqs_text(s: &str) -> String {
    s.chars()
        .map(|c| if is_sqs_text_char(c) { c } else { '\u{fffd}' })
        .collect()
}

/// Checks a message attribute name: 1 to 256 of `A-Z a-z 0-9 _ - .`, no leading, trailing or
/// doubled `.`, not starting with `AWS.` or `Amazon.` (any case). The error is the rule, in words.
pub fn check_attribute_name(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    let ok = (1..=ATTRIBUTE_NAME_MAX).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "message attribute name {name:?} must be 1 to {ATTRIBUTE_NAME_MAX} letters, digits, _, - \
             or . (no leading, trailing or doubled ., not starting with AWS. or Amazon.)"
        ))
    }
}

/// Checks a batch entry id: 1 to 80 letters, digits, `-` or `_`.
pub fn check_batch_entry_id(id: &str) -> Result<(), String> {
    let ok = (1..=BATCH_ENTRY_ID_MAX).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "batch entry id {id:?} must be 1 to {BATCH_ENTRY_ID_MAX} letters, digits, - or _"
        ))
    }
}

/// Longest message group id.
pub const GROUP_ID_MAX: usize = 128;

/// Checks a message group id: 1 to 128 ASCII letters, digits and punctuation (no space).
pub fn check_group_id(id: &str) -> Result<(), String> {
    let ok = (1..=GROUP_ID_MAX).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "MessageGroupId {id:?} must be 1 to {GROUP_ID_MAX} ASCII letters, digits or punctuation"
        ))
    }
}

/// The message group of a sender's messages: the sender itself when SQS accepts it as a group id,
/// else a stable derivation that always is valid (its printable ASCII, `_` for the rest, cut to
/// 100, then `~` and 16 hex digits of the sender's SHA-256), so every sender's messages share one
/// group on every process and no sender's name can make a send fail.
pub fn group_id_of(sender: &str) -> String {
    use sha2::Digest;
    if check_group_id(sender).is_ok() {
        return sender.to_string();
    }
    let mut id: String = sender
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    let digest = sha2::Sha256::digest(sender.as_bytes());
    id.push('~');
    let hex = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    format!("{id}{hex:016x}")
}

/// A FIFO deduplication id for `body` sent on behalf of `origin` (a message id): the origin, then
/// 16 hex digits of the body's SHA-256, so the same edit sent twice is queued once and another
/// edit of the same message is not mistaken for it.
pub fn dedup_id_of(origin: &str, body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    let origin: String = origin
        .chars()
        .filter(char::is_ascii_graphic)
        .take(100)
        .collect();
    format!("{origin}-{hex:016x}")
}

/// The size SQS counts for a message: its body and each String attribute's name, type and value.
pub fn message_size(body: &str, attributes: &BTreeMap<String, String>) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(k, v)| k.len() + "String".len() + v.len())
            .sum::<usize>()
}

/// Checks a message against SQS's rules for a queue accepting `max_size` bytes: a body of
/// allowed characters, at most 10 attributes with valid names and non-empty values of allowed
/// characters, and a size within `max_size`. The error is the rule broken, in words.
pub fn check_message(
    body: &str,
    attributes: &BTreeMap<String, String>,
    max_size: usize,
) -> Result<(), String> {
    if body.is_empty() {
        return Err("the message body must not be empty".into());
    }
    if body.chars().any(|c| !is_sqs_text_char(c)) {
        return Err("the message body has a character SQS does not allow".into());
    }
    if attributes.len() > MESSAGE_ATTRIBUTES_MAX {
        return Err(format!(
            "a message has at most {MESSAGE_ATTRIBUTES_MAX} attributes, not {}",
            attributes.len()
        ));
    }
    for (name, value) in attributes {
        check_attribute_name(name)?;
        if value.is_empty() || value.chars().any(|c| !is_sqs_text_char(c)) {
            return Err(format!(
                "message attribute {name:?} must have a non-empty value of allowed characters"
            ));
        }
    }
    let size = message_size(body, attributes);
    if size > max_size {
        return Err(format!(
            "the message is {size} bytes (body and attributes); this queue accepts at most {max_size}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_are_always_valid_and_stable() {
        assert_eq!(group_id_of("acme-payments"), "acme-payments");
        for sender in ["ops team", "zoë", "", &"x".repeat(129), "a\u{7f}b", "日本"] {
            let id = group_id_of(sender);
            assert_eq!(check_group_id(&id), Ok(()), "{sender:?} → {id:?}");
            assert_eq!(group_id_of(sender), id, "stable");
        }
        assert_ne!(group_id_of("ops team"), group_id_of("ops_team"));
        assert!(group_id_of("ops team").starts_with("ops_team~"));
        assert!(check_group_id("has space").is_err());
        assert!(check_group_id(&"y".repeat(129)).is_err());
    }
    use crate::domain::limits::{
        DLQ_RETENTION, MESSAGE_SIZE_MAX, SOURCE_MESSAGE_SIZE, SOURCE_RETENTION,
    };

    #[test]
    fn sqs_message_rules() {
        assert!(is_sqs_text_char('\t') && is_sqs_text_char('é') && is_sqs_text_char('🎉'));
        for bad in ['\u{0}', '\u{1b}', '\u{7}', '\u{fffe}', '\u{ffff}'] {
            assert!(!is_sqs_text_char(bad), "{bad:?}");
        }
        assert_eq!(sqs_text("a\u{1b}[2Jb\n"), "a\u{fffd}[2Jb\n");
        for ok in ["voucherdeck.error_kind", "a", "x-y_z.1"] {
            assert_eq!(check_attribute_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "AWS.x",
            "amazon.y",
            "sp ace",
            &"n".repeat(257),
        ] {
            assert!(check_attribute_name(bad).is_err(), "{bad}");
        }
        assert!(check_batch_entry_id("0").is_ok() && check_batch_entry_id("a-b_C").is_ok());
        assert!(check_batch_entry_id("").is_err() && check_batch_entry_id("a.b").is_err());
        assert!(check_batch_entry_id(&"i".repeat(81)).is_err());
        let attrs = BTreeMap::from([("k".to_string(), "vv".to_string())]);
        assert_eq!(message_size("body", &attrs), 4 + 1 + 6 + 2);
        assert_eq!(check_message("body", &attrs, 13), Ok(()));
        let e = check_message("body", &attrs, 12).expect_err("too big");
        assert!(e.contains("13 bytes") && e.contains("at most 12"), "{e}");
        assert!(check_message("", &BTreeMap::new(), 10).is_err());
        assert!(check_message("a\u{1}", &BTreeMap::new(), 10).is_err());
        let empty = BTreeMap::from([("k".to_string(), String::new())]);
        assert!(check_message("b", &empty, 100).is_err());
        let many: BTreeMap<String, String> =
            (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(check_message("b", &many, 1000).is_err());
        assert!(SOURCE_RETENTION < DLQ_RETENTION && SOURCE_MESSAGE_SIZE < MESSAGE_SIZE_MAX);
    }
}
