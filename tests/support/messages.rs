//! Raw messages for tests that put them on a queue themselves.
//!
//! Include it with `#[path = "support/messages.rs"] mod messages;`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use voucherdeck_core::ports::OutgoingMessage;

/// A message with no attributes and no delay, as batch entry `id`.
pub fn outgoing(id: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: id.into(),
        body: body.into(),
        attributes: BTreeMap::new(),
        delay: None,
        group: None,
        dedup: None,
    }
}
