//! The names of voucherdeck's own CloudWatch metrics: one definition for every publisher (a
//! worker's `PutMetricData`, a Lambda function's embedded metric format) and for the alarms.

/// The namespace of voucherdeck's own metrics, and the dimension naming the queue they are about.
pub const METRICS_NAMESPACE: &str = "Voucherdeck";
pub const QUEUE_DIMENSION: &str = "Queue";
/// The consumer's metrics, whoever publishes them (`PutMetricData` from a worker, embedded metric
/// format lines from a Lambda function): vouchers persisted, failures, poison sent to the DLQ
/// (counts), and each message's processing latency (milliseconds).
pub const METRIC_PERSISTED: &str = "VouchersPersisted";
pub const METRIC_FAILED: &str = "VouchersFailed";
pub const METRIC_DEAD_LETTERED: &str = "VouchersDeadLettered";
pub const METRIC_LATENCY: &str = "ProcessingLatency";
