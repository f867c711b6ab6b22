//! [`Queue`](voucherdeck_core::ports::Queue) on Amazon SQS (or an SQS-compatible endpoint).

mod messages;
mod move_tasks;
mod policy;
mod queue;
mod resolve;

pub use queue::SqsQueue;
