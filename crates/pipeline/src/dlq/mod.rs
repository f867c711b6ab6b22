//! The dead-letter queue: browsing and deleting its messages, sessions over the whole DLQ (paging,
//! export, counting by filter), edit and resend, the walk through a queue that redrive
//! shares, and the diagnosis attributes the consumer writes on what it dead-letters.

pub(super) mod attributes;
mod bodies;
mod browse;
mod export;
mod filter;
pub(super) mod letters;
mod resend;
pub(super) mod resolver;
mod session;
pub(super) mod walk;

pub use bodies::DLQ_BODY_BUDGET;
pub use browse::{DlqFailure, DlqMessage, FailureAttributes};
pub use export::DlqExport;
pub use filter::{DlqCount, DlqFilter};
pub use resend::ResendReceipt;
pub use session::{DLQ_HOLD, DLQ_SESSION_MAX, DlqProgress, DlqSession};
pub use walk::PEEK_VISIBILITY;
