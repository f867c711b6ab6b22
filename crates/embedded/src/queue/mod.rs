//! An in-process SQS: visibility timeouts, receive counts, redrive to a DLQ at maxReceiveCount, delays,
//! long polling that wakes on arrival, message-move tasks with a rate, exact oldest-message age, and
//! FIFO queues (order within a group, deduplication).

mod engine;
mod fifo;
mod messages;
mod move_tasks;
mod service;

pub use engine::DEFAULT_CALLER;
pub use service::EmbeddedQueues;
