//! What the consumer tells its followers as it goes.

use uuid::Uuid;

use voucherdeck_core::domain::FailureRecord;

/// What the consumer did, for followers (the dashboard's status line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    Persisted {
        voucher_id: Uuid,
        message_id: String,
    },
    Failed(FailureRecord),
}
