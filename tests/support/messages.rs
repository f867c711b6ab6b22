//! Raw messages for tests that put them on a queue themselves.
//!
//! Include it with `#[path = "support/messages.rs"] mod messages;`.
#![allow(dead_code)]

use voucherdeck_core::ports::OutgoingMessage;

/// A message with no attributes and no delay, as batch entry `id`.
pub fn outgoing(id: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage::plain(id, body)
}
