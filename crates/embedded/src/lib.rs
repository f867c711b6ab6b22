//! The embedded backend: an in-process engine with the semantics of SQS, DynamoDB and CloudWatch.
//! It is the default when no AWS target is configured. Nothing survives the process.

mod alarms;
mod audit;
mod failures;
mod keys;
mod metrics;
mod queue;
mod recent;
mod store;

use std::sync::Arc;

pub use alarms::{EMBEDDED_ALARM_PERIOD, EmbeddedAlarms};
pub use audit::{EmbeddedAuditLog, LocalIdentity};
pub use failures::EmbeddedFailureLog;
pub use keys::EmbeddedKeys;
pub use metrics::EmbeddedMetrics;
pub use queue::{DEFAULT_CALLER, EmbeddedQueues};
pub use store::EmbeddedStore;

use voucherdeck_core::backend::{Backend, BackendInfo, BackendKind, Names};
use voucherdeck_core::ports::RequestCounter;

/// The embedded backend with handles to its concrete parts (for demo traffic and tests).
#[derive(Debug, Clone)]
pub struct Embedded {
    pub backend: Backend,
    pub queues: EmbeddedQueues,
    pub store: EmbeddedStore,
    pub metrics: EmbeddedMetrics,
    pub alarms: EmbeddedAlarms,
    pub audit: EmbeddedAuditLog,
}

impl Embedded {
    /// A fresh, empty embedded backend. Must be called inside a tokio runtime (move tasks spawn).
    pub fn new(names: Names) -> Self {
        Embedded::with_alarm_period(names, EMBEDDED_ALARM_PERIOD)
    }

    /// Like [`Embedded::new`], with the alarms evaluated over periods of `alarm_period`.
    pub fn with_alarm_period(names: Names, alarm_period: std::time::Duration) -> Self {
        let requests = RequestCounter::default();
        let queues = EmbeddedQueues::new(requests.clone());
        let store = EmbeddedStore::new(requests.clone(), &names.table, &names.quota_table);
        let metrics = EmbeddedMetrics::new(queues.clone(), requests.clone());
        let alarms = EmbeddedAlarms::new(
            queues.clone(),
            metrics.clone(),
            requests.clone(),
            alarm_period,
        );
        let audit = EmbeddedAuditLog::new(requests.clone(), &names.audit_table);
        let backend = Backend {
            queue: Arc::new(queues.clone()),
            store: Arc::new(store.clone()),
            failures: Arc::new(EmbeddedFailureLog::new(
                requests.clone(),
                &names.failure_table,
            )),
            metrics: Arc::new(metrics.clone()),
            alarms: Arc::new(alarms.clone()),
            audit: Arc::new(audit.clone()),
            keys: Arc::new(EmbeddedKeys::new(requests.clone(), &names.key_table)),
            identity: Arc::new(LocalIdentity),
            info: BackendInfo {
                kind: BackendKind::Embedded,
                region: None,
                endpoint: None,
                profile: None,
            },
            names,
            requests,
        };
        Embedded {
            backend,
            queues,
            store,
            metrics,
            alarms,
            audit,
        }
    }
}
