//! The consumer: several long-poll loops receive batches of 10; each batch is decoded and validated
//! again, persisted with one idempotent batch write, and deleted with one batch delete. Poison goes to
//! the DLQ at once with its reason; retryable failures come back later with a growing backoff and,
//! after maxReceiveCount, SQS moves them to the DLQ itself.
//!
//! - `plan`: the pure step, from a received batch and the backends' answers to a `BatchOutcome`;
//! - `batch`: carries a batch out (persist, DLQ send, delete, backoff, failure records, events);
//! - `heartbeat`: keeps a slow batch hidden;
//! - `receiver` and `supervisor`: the receive loops and the loop that runs them;
//! - `stats`: the figures every view reads (`ConsumerStats` totals);
//! - `handle`: starting the consumer and controlling it; `report`: what it shows.

mod batch;
mod config;
mod events;
mod handle;
mod heartbeat;
mod plan;
mod receiver;
mod report;
mod shared;
mod stats;
mod supervisor;
mod worker;

pub use config::ConsumerConfig;
pub use events::ConsumerEvent;
pub use handle::ConsumerHandle;
pub use report::{ConsumerReport, ConsumerSnapshot};
