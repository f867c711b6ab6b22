//! FIFO queues' sending rules as SQS runs them in high-throughput mode: every message has a
//! group, per-message delays are refused, and a send whose deduplication id (or, without one,
//! whose body) was sent to the same group in the last 5 minutes is accepted and not queued again.
//! Delivery (a group in order, none of it while one of its messages is in flight) is with the
//! other receives.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use voucherdeck_core::domain::limits::check_group_id;
use voucherdeck_core::ports::OutgoingMessage;

/// How long a deduplication id is remembered.
pub(super) const DEDUP_WINDOW: Duration = Duration::from_mins(5);
/// Longest deduplication id.
const DEDUP_ID_MAX: usize = 128;

/// A FIFO queue's deduplication window: the keys sent in the last 5 minutes, with the message id
/// each made.
#[derive(Debug, Default)]
pub(super) struct Fifo {
    seen: HashMap<String, String>,
    /// When each key was sent, oldest first.
    order: VecDeque<(Instant, String)>,
}

impl Fifo {
    /// The message id sent under `key` in the window, if any.
    pub(super) fn duplicate(&mut self, key: &str, now: Instant) -> Option<String> {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < DEDUP_WINDOW {
                break;
            }
            if let Some((_, k)) = self.order.pop_front() {
                self.seen.remove(&k);
            }
        }
        self.seen.get(key).cloned()
    }

    /// Remembers that `key` made message `id` at `now`.
    pub(super) fn remember(&mut self, key: String, id: String, now: Instant) {
        self.order.push_back((now, key.clone()));
        self.seen.insert(key, id);
    }
}

/// Why SQS would refuse this entry on a FIFO queue (code and message), if it would.
pub(super) fn refusal(m: &OutgoingMessage) -> Option<(&'static str, String)> {
    let Some(group) = m.group.as_deref() else {
        return Some((
            "MissingParameter",
            "The request must contain the parameter MessageGroupId.".into(),
        ));
    };
    if let Err(why) = check_group_id(group) {
        return Some(("InvalidParameterValue", why));
    }
    if m.delay.is_some_and(|d| !d.is_zero()) {
        return Some((
            "InvalidParameterValue",
            "DelaySeconds is not valid for a FIFO queue (set the queue's delay instead)".into(),
        ));
    }
    if let Some(id) = m.dedup.as_deref() {
        let ok =
            !id.is_empty() && id.len() <= DEDUP_ID_MAX && id.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Some((
                "InvalidParameterValue",
                format!(
                    "MessageDeduplicationId {id:?} must be 1 to {DEDUP_ID_MAX} ASCII letters, \
                     digits or punctuation"
                ),
            ));
        }
    }
    None
}

/// The key a message is deduplicated by within its group: its deduplication id, or the SHA-256
/// of its body (content-based deduplication, which provision turns on).
pub(super) fn dedup_key(m: &OutgoingMessage) -> String {
    let group = m.group.as_deref().unwrap_or_default();
    match m.dedup.as_deref() {
        Some(id) => format!("{group}\u{0}{id}"),
        None => format!(
            "{group}\u{0}#{}",
            hex::encode(Sha256::digest(m.body.as_bytes()))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn msg(group: Option<&str>, dedup: Option<&str>, body: &str) -> OutgoingMessage {
        OutgoingMessage {
            id: "0".into(),
            body: body.into(),
            attributes: BTreeMap::new(),
            delay: None,
            group: group.map(Into::into),
            dedup: dedup.map(Into::into),
        }
    }

    #[test]
    fn entries_without_a_group_or_with_a_delay_are_refused() {
        assert_eq!(
            refusal(&msg(None, Some("d"), "b")).map(|r| r.0),
            Some("MissingParameter")
        );
        let mut delayed = msg(Some("g"), Some("d"), "b");
        delayed.delay = Some(Duration::from_secs(5));
        assert_eq!(
            refusal(&delayed).map(|r| r.0),
            Some("InvalidParameterValue")
        );
        let long = "d".repeat(DEDUP_ID_MAX + 1);
        assert!(refusal(&msg(Some("g"), Some(&long), "b")).is_some());
        assert!(refusal(&msg(Some("g"), Some("d"), "b")).is_none());
        assert!(refusal(&msg(Some("g"), None, "b")).is_none());
    }

    #[test]
    fn keys_are_per_group_and_by_content_without_an_id() {
        let a = dedup_key(&msg(Some("g"), Some("x"), "b1"));
        assert_eq!(a, dedup_key(&msg(Some("g"), Some("x"), "b2")));
        assert_ne!(a, dedup_key(&msg(Some("h"), Some("x"), "b1")));
        let c = dedup_key(&msg(Some("g"), None, "b1"));
        assert_eq!(c, dedup_key(&msg(Some("g"), None, "b1")));
        assert_ne!(c, dedup_key(&msg(Some("g"), None, "b2")));
    }

    #[test]
    fn the_window_forgets_after_five_minutes() {
        let mut f = Fifo::default();
        let t0 = Instant::now();
        f.remember("k".into(), "m1".into(), t0);
        assert_eq!(
            f.duplicate("k", t0 + Duration::from_secs(299)),
            Some("m1".into())
        );
        assert_eq!(f.duplicate("k", t0 + DEDUP_WINDOW), None);
    }
}
