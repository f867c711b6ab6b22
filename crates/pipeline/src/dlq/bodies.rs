//! What a DLQ session keeps of each message it holds: the whole message while the bodies kept fit in
//! a byte budget, past it only the id, the receipt and the diagnosis the filters read (kind, reason,
//! worker, source queue). A DLQ of 1 MiB messages then costs the session its budget, not its size.

use std::collections::HashSet;

use super::attributes::PREFIX;
use voucherdeck_core::domain::text;
use voucherdeck_core::ports::ReceivedMessage;

/// Most bytes of message bodies and attributes a session keeps whole (the browser's sessions);
/// past it a message is kept without its body.
pub const DLQ_BODY_BUDGET: usize = 32 * 1024 * 1024;
/// Longest diagnosis value kept on a message whose body was not kept, in characters.
const DIAGNOSIS_KEPT: usize = 1000;

/// The bytes a message costs a session: its body and its attributes.
pub(super) fn size(m: &ReceivedMessage) -> usize {
    m.body.len()
        + m.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Which held messages are kept whole, within a budget.
#[derive(Debug)]
pub(super) struct Bodies {
    budget: usize,
    /// Bytes of the messages kept whole.
    bytes: usize,
    /// Messages kept without their body.
    dropped: HashSet<String>,
    /// Messages kept whole whatever the budget (the one being looked for).
    pinned: HashSet<String>,
}

impl Bodies {
    pub(super) fn new(budget: usize) -> Bodies {
        Bodies {
            budget,
            bytes: 0,
            dropped: HashSet::new(),
            pinned: HashSet::new(),
        }
    }

    pub(super) fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
    }

    /// Keeps this message whole from now on, however much is kept.
    pub(super) fn pin(&mut self, id: &str) {
        self.pinned.insert(id.to_string());
    }

    /// Whether this message's body was not kept.
    pub(super) fn dropped(&self, id: &str) -> bool {
        self.dropped.contains(id)
    }

    /// How many held messages were kept without their body.
    pub(super) fn dropped_count(&self) -> usize {
        self.dropped.len()
    }

    /// A message new to the session: kept whole while it fits (or when pinned), else stripped.
    pub(super) fn admit(&mut self, m: &mut ReceivedMessage) {
        let size = size(m);
        if self.pinned.contains(&m.message_id) || self.bytes + size <= self.budget {
            self.bytes += size;
        } else {
            strip(m);
            self.dropped.insert(m.message_id.clone());
        }
    }

    /// A message received again replaces the one held (its receipt is the newest), kept as whole
    /// as before; a pinned one whose body was dropped is whole again.
    pub(super) fn readmit(&mut self, held: &mut ReceivedMessage, mut again: ReceivedMessage) {
        if !self.dropped.contains(&again.message_id) {
            self.bytes = self.bytes.saturating_sub(size(held)) + size(&again);
        } else if self.pinned.contains(&again.message_id) {
            self.dropped.remove(&again.message_id);
            self.bytes += size(&again);
        } else {
            strip(&mut again);
        }
        *held = again;
    }

    /// A message that left the session.
    pub(super) fn forget(&mut self, m: &ReceivedMessage) {
        if !self.dropped.remove(&m.message_id) {
            self.bytes = self.bytes.saturating_sub(size(m));
        }
        self.pinned.remove(&m.message_id);
    }

    /// The session let go of everything.
    pub(super) fn clear(&mut self) {
        self.bytes = 0;
        self.dropped.clear();
        self.pinned.clear();
    }
}

/// Keeps of a message what the filters and the actions need: no body, and only voucherdeck's own
/// attributes (each cut to 1000 characters; anyone who can send to the DLQ can write them).
fn strip(m: &mut ReceivedMessage) {
    m.body = String::new();
    m.attributes.retain(|k, _| k.starts_with(PREFIX));
    for v in m.attributes.values_mut() {
        if v.chars().count() > DIAGNOSIS_KEPT {
            *v = text::truncate(v, DIAGNOSIS_KEPT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn msg(id: &str, body_len: usize) -> ReceivedMessage {
        ReceivedMessage {
            message_id: id.into(),
            receipt: format!("r-{id}"),
            body: "b".repeat(body_len),
            attributes: BTreeMap::from([
                ("voucherdeck.error_kind".to_string(), "schema".to_string()),
                ("own".to_string(), "x".repeat(100)),
            ]),
            receive_count: 1,
            sent_at: None,
            first_received_at: None,
            sender_id: None,
            group: None,
        }
    }

    #[test]
    fn past_the_budget_only_the_diagnosis_is_kept() {
        let mut bodies = Bodies::new(2500);
        let mut kept = msg("a", 1000);
        bodies.admit(&mut kept);
        assert_eq!(kept.body.len(), 1000);
        let mut over = msg("b", 2000);
        bodies.admit(&mut over);
        assert!(over.body.is_empty() && bodies.dropped("b"));
        assert_eq!(
            over.attributes.keys().collect::<Vec<_>>(),
            ["voucherdeck.error_kind"]
        );
        assert_eq!(over.receipt, "r-b", "the receipt is kept");

        // Seen again: the newest receipt, kept as it was; pinned, whole again.
        let mut again = msg("b", 2000);
        again.receipt = "r-b2".into();
        bodies.readmit(&mut over, again.clone());
        assert!(over.body.is_empty() && over.receipt == "r-b2");
        bodies.pin("b");
        bodies.readmit(&mut over, again);
        assert_eq!(over.body.len(), 2000);
        assert!(!bodies.dropped("b"));
        assert_eq!(bodies.dropped_count(), 0);

        // What leaves frees its room.
        bodies.forget(&kept);
        bodies.forget(&over);
        let mut next = msg("c", 2000);
        bodies.admit(&mut next);
        assert_eq!(next.body.len(), 2000);
    }
}
