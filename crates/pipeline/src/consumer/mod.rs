//! The consumer: several long-poll loops receive batches of 10 (20 when the queue is backed up);
//! each batch is checked for its senders, decoded and validated again, persisted create-only (one
//! batch read, one batch write of what is new), and deleted in batches. Poison goes to
//! the DLQ at once with its reason; retryable failures come back later with a growing backoff and,
//! after maxReceiveCount, SQS moves them to the DLQ itself.
//!
//! - `decoded` and `plan`: the pure steps, from a received batch and the backends' answers to a
//!   `BatchOutcome` (who sent it, what it holds, what the store and the DLQ said);
//! - `batch`: carries a batch out (persist, DLQ send, delete, backoff, failure records, events);
//! - `heartbeat`: keeps a slow batch hidden;
//! - `receiver` and `supervisor`: the receive loops and the loop that runs them;
//! - `stats`: the figures every view reads (`ConsumerStats` totals);
//! - `worker`: what the loops share; `handle`: starting the consumer and controlling it;
//!   `report`: what it tells its readers;
//! - `delivered`: a batch another receive handed over (a Lambda event source mapping), answered
//!   with what is not done instead of deleted by hand;
//! - `writes`: what both kinds of batch write beside the vouchers (DLQ, failure log).

mod batch;
mod config;
mod decoded;
mod delivered;
mod handle;
mod heartbeat;
mod plan;
mod receiver;
mod report;
mod stats;
mod supervisor;
mod worker;
mod writes;

pub use config::ConsumerConfig;
pub use delivered::DeliveredOutcome;
pub use handle::{ConsumerHandle, ConsumerWatch};
pub use report::{ConsumerEvent, ConsumerReport, ConsumerSnapshot};
