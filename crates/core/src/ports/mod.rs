//! Ports: the small async traits the services use, in domain terms. Two backends implement them:
//! `aws` (the official SDK) and `embedded` (an in-process engine with the same semantics).

mod alarms;
mod audit;
mod counter;
mod error;
mod failures;
mod keys;
mod metrics;
mod queue;
mod store;

pub use crate::domain::limits::{DYNAMO_BATCH_GET_MAX, DYNAMO_BATCH_MAX, MAX_WAIT, SQS_BATCH_MAX};
pub use alarms::{AlarmConfig, AlarmRecord, AlarmSpec, Alarms};
pub use audit::{AuditLog, Identity, local_caller};
pub use counter::RequestCounter;
pub use error::{BackendError, Result};
pub use failures::FailureLog;
pub use keys::KeyStore;
pub use metrics::{
    AgeReading, ConsumerStats, IntakeStats, METRIC_DEAD_LETTERED, METRIC_FAILED, METRIC_LATENCY,
    METRIC_PERSISTED, METRICS_NAMESPACE, Metrics, MinuteReading, QUEUE_DIMENSION, ServersIntake,
};
pub use queue::{
    BatchFailure, BatchResult, MoveTask, MoveTaskStatus, OutgoingMessage, Queue, QueueRef,
    QueueSettings, QueueSpec, QueueStats, Receipt, ReceiveRequest, ReceivedMessage, RedrivePolicy,
    SettingDiff, VisibilityChange,
};
pub use store::{
    Accepted, AcceptedRow, Claim, Persisted, Progress, Quota, VoucherStore, WriteToken,
};
