//! Settings the services run with.

use std::path::PathBuf;
use std::time::Duration;

use voucherdeck_core::domain::{AlarmThresholds, Limits, TrustedSenders};

/// What the services need to know, resolved from flags, environment, config file and defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    pub limits: Limits,
    /// Gifts per sender per minute, in this process.
    pub per_minute: u32,
    /// Gifts per sender per UTC day, across every process (a counter in the store).
    pub daily_cap: u32,
    /// Receives before SQS moves a message to the DLQ.
    pub max_receive_count: u32,
    pub visibility_timeout: Duration,
    /// This process's worker identity (failure records, DLQ attributes).
    pub worker_id: String,
    /// Refuse every call that changes something (gift, consume, redrive, delete, purge,
    /// provision, peeking a DLQ, key changes): the services enforce it, whatever the front end.
    pub read_only: bool,
    /// A local JSON Lines copy of the audit log (each audited action appended as one line).
    pub audit_file: Option<PathBuf>,
    /// The alarms' thresholds (oldest-message ages, failure rate, no consumer).
    pub alarms: AlarmThresholds,
    /// The secret that keys the stored hashes of API keys (every server and `keys create` must
    /// share it; changing it invalidates every key).
    pub key_pepper: String,
    /// A previous pepper, still accepted when verifying keys while they are re-issued.
    pub key_pepper_previous: Option<String>,
    /// The consumer accepts messages only from these senders (`None`: from every sender).
    pub trusted_senders: Option<TrustedSenders>,
    /// Most DLQ messages a copy redrive keeps receipts for, to release them at its end; past it,
    /// what it passes over stays hidden until its hold runs out ([`REDRIVE_HOLD_MAX`]).
    pub redrive_hold_max: usize,
}

/// Most receipts a copy redrive keeps by default (memory stays bounded on a DLQ of any size).
pub const REDRIVE_HOLD_MAX: usize = 10_000;

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            limits: Limits::default(),
            per_minute: 30,
            daily_cap: 500,
            max_receive_count: 5,
            visibility_timeout: Duration::from_secs(30),
            worker_id: default_worker_id(),
            read_only: false,
            audit_file: None,
            alarms: AlarmThresholds::default(),
            key_pepper: DEFAULT_KEY_PEPPER.into(),
            key_pepper_previous: None,
            trusted_senders: None,
            redrive_hold_max: REDRIVE_HOLD_MAX,
        }
    }
}

/// The key pepper when none is configured: public, so only for the embedded demo (the command
/// line refuses to hash keys with it on AWS).
pub const DEFAULT_KEY_PEPPER: &str = "voucherdeck-api-keys-v1";

/// `host-pid`, unique enough across machines and processes.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into());
    format!("{host}-{}", std::process::id())
}
