//! The dead-letter queue: browsing and deleting its messages, the walk through a queue that redrive
//! shares, and the diagnosis attributes the consumer writes on what it dead-letters.

pub(super) mod attributes;
mod browse;
pub(super) mod letters;
pub(super) mod walk;

pub use browse::{DlqFailure, DlqMessage};
pub use walk::PEEK_VISIBILITY;
