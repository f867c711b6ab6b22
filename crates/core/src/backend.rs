//! A backend: one implementation of every port, plus what it is and where it points.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::TableDef;
use crate::domain::tables::{AUDIT_LOG_PURPOSE, FAILURE_LOG_PURPOSE};
use crate::ports::{
    Alarms, AuditLog, FailureLog, Identity, KeyStore, Metrics, Queue, RequestCounter, VoucherStore,
};

/// Names of the resources the pipeline uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    pub queue: String,
    pub dlq: String,
    pub table: String,
    pub failure_table: String,
    /// Idempotency claims and daily quota counters.
    pub quota_table: String,
    /// The operator audit log.
    pub audit_table: String,
    /// API keys (their hashes).
    pub key_table: String,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            queue: "vouchers".into(),
            dlq: "vouchers-dlq".into(),
            table: "vouchers".into(),
            failure_table: "vouchers-failures".into(),
            quota_table: "vouchers-quotas".into(),
            audit_table: "vouchers-audit".into(),
            key_table: "vouchers-keys".into(),
        }
    }
}

impl Names {
    /// Every table of the pipeline, in the order provision creates them.
    pub fn tables(&self) -> Vec<TableDef> {
        vec![
            TableDef::vouchers(&self.table),
            TableDef::quotas(&self.quota_table),
            TableDef::day_log(&self.failure_table, FAILURE_LOG_PURPOSE),
            TableDef::day_log(&self.audit_table, AUDIT_LOG_PURPOSE),
            TableDef::keys(&self.key_table),
        ]
    }
}

/// Which implementation is behind the ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// In-process engine: nothing is persisted beyond the process.
    Embedded,
    /// AWS, or an AWS-compatible endpoint.
    Aws,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Embedded => "embedded",
            BackendKind::Aws => "aws",
        })
    }
}

/// What the header and `status` say about the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendInfo {
    pub kind: BackendKind,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
}

impl BackendInfo {
    /// The embedded backend's description.
    pub const fn embedded() -> BackendInfo {
        BackendInfo {
            kind: BackendKind::Embedded,
            region: None,
            endpoint: None,
            profile: None,
        }
    }

    /// `embedded (in-process, not persisted)`, `aws eu-west-1 (profile ops)`, `aws http://127.0.0.1:5000`.
    pub fn describe(&self) -> String {
        match self.kind {
            BackendKind::Embedded => "embedded (in-process, not persisted)".into(),
            BackendKind::Aws => {
                let mut s = String::from("aws");
                if let Some(e) = &self.endpoint {
                    s.push(' ');
                    s.push_str(e);
                }
                if let Some(r) = &self.region {
                    s.push(' ');
                    s.push_str(r);
                }
                if let Some(p) = &self.profile {
                    s.push_str(" (profile ");
                    s.push_str(p);
                    s.push(')');
                }
                s
            }
        }
    }
}

/// Every port, shared.
#[derive(Clone)]
pub struct Backend {
    pub queue: Arc<dyn Queue>,
    pub store: Arc<dyn VoucherStore>,
    pub failures: Arc<dyn FailureLog>,
    pub metrics: Arc<dyn Metrics>,
    pub alarms: Arc<dyn Alarms>,
    pub audit: Arc<dyn AuditLog>,
    pub keys: Arc<dyn KeyStore>,
    pub identity: Arc<dyn Identity>,
    pub info: BackendInfo,
    pub names: Names,
    pub requests: RequestCounter,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("info", &self.info)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}
