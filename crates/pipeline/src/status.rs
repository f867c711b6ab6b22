//! Status: depth, oldest age and recent failures in one report, each figure with its source and time.

use std::time::Duration;

use serde::Serialize;

use super::alarms::AlarmReport;
use super::monitor::NO_CLOUDWATCH;
use super::services::Pipeline;
use voucherdeck_core::backend::{BackendInfo, BackendKind};
use voucherdeck_core::domain::{FailureRecord, Timestamp, whole_duration};
use voucherdeck_core::ports::{AgeReading, BackendError, QueueSettings, QueueStats, Result};

/// One queue's figures. A figure that could not be read is `None`, never a guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueFigures {
    pub name: String,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    pub oldest_age_seconds: Option<u64>,
    /// `embedded` (exact, now) or `cloudwatch` (1-minute Maximum).
    pub oldest_age_source: &'static str,
    /// The time the age figure describes.
    pub oldest_age_as_of: Option<Timestamp>,
    /// Why there is no age figure, when the reason is known (an endpoint without CloudWatch).
    pub oldest_age_note: Option<&'static str>,
    /// How long the queue keeps a message (MessageRetentionPeriod).
    pub retention_seconds: Option<u64>,
}

impl QueueFigures {
    fn new(name: &str, stats: &QueueStats, age: Option<&AgeReading>, source: &'static str) -> Self {
        QueueFigures {
            name: name.to_string(),
            visible: Some(stats.visible),
            in_flight: Some(stats.in_flight),
            delayed: Some(stats.delayed),
            oldest_age_seconds: age.and_then(|a| a.age).map(|d| d.as_secs()),
            oldest_age_source: source,
            oldest_age_as_of: age.and_then(|a| a.as_of),
            oldest_age_note: None,
            retention_seconds: None,
        }
    }
}

/// What `voucherdeck status` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    pub backend: BackendInfo,
    pub queue: QueueFigures,
    pub dlq: QueueFigures,
    pub recent_failures: Vec<FailureRecord>,
    /// The pipeline's alarms and their states; `None` when they could not be read (see warnings).
    pub alarms: Option<AlarmReport>,
    /// Warnings about figures that could not be read.
    pub warnings: Vec<String>,
    pub as_of: Timestamp,
}

impl Pipeline {
    pub async fn status(&self, failures: usize) -> Result<StatusReport> {
        let (queue, dlq) = self.depths().await?;
        let mut warnings = Vec::new();
        let source = if self.backend().info.kind == BackendKind::Embedded {
            "embedded"
        } else {
            "cloudwatch"
        };
        let mut age_note = None;
        let ages = match self.ages().await {
            Ok(a) => Some(a),
            Err(BackendError::Unsupported(_)) => {
                age_note = Some(NO_CLOUDWATCH);
                None
            }
            Err(e) => {
                warnings.push(format!("oldest-message age unavailable: {e}"));
                None
            }
        };
        let recent_failures = match self.recent_failures(failures).await {
            Ok(f) => f,
            Err(e) => {
                warnings.push(format!("failure log unavailable: {e}"));
                Vec::new()
            }
        };
        let alarms = match self.alarms().await {
            Ok(a) => Some(a),
            Err(e) => {
                warnings.push(format!("alarms unavailable: {e}"));
                None
            }
        };
        let names = &self.backend().names;
        let mut report = StatusReport {
            backend: self.backend().info.clone(),
            queue: QueueFigures::new(&names.queue, &queue, ages.as_ref().map(|a| &a.0), source),
            dlq: QueueFigures::new(&names.dlq, &dlq, ages.as_ref().map(|a| &a.1), source),
            recent_failures,
            alarms,
            warnings,
            as_of: queue.as_of,
        };
        report.queue.oldest_age_note = age_note;
        report.dlq.oldest_age_note = age_note;
        self.check_retention(&mut report).await;
        Ok(report)
    }

    /// Adds both queues' retention to the report, and a warning when the DLQ does not keep
    /// messages longer than the source queue: a message moved to the DLQ by SQS keeps its original
    /// enqueue time, so it would expire there soon after it arrives.
    async fn check_retention(&self, report: &mut StatusReport) {
        let settings = |q| async move {
            let queue = if q {
                self.queue().await?
            } else {
                self.dlq().await?
            };
            self.backend().queue.settings(&queue).await
        };
        let (queue, dlq) = tokio::join!(settings(true), settings(false));
        let secs = |s: &Result<QueueSettings>| {
            s.as_ref()
                .ok()
                .and_then(|s| s.retention)
                .map(|d| d.as_secs())
        };
        report.queue.retention_seconds = secs(&queue);
        report.dlq.retention_seconds = secs(&dlq);
        match (report.queue.retention_seconds, report.dlq.retention_seconds) {
            (Some(q), Some(d)) if d <= q => report.warnings.push(format!(
                "the DLQ {} keeps messages {} and the queue {} keeps them {}: a message moved \
                 to the DLQ keeps its original enqueue time, so it can expire there within hours; \
                 give the DLQ a longer retention (`voucherdeck provision --update` sets 14 days)",
                report.dlq.name,
                whole_duration(Duration::from_secs(d)),
                report.queue.name,
                whole_duration(Duration::from_secs(q))
            )),
            (Some(_), Some(_)) => {}
            _ => {
                if let Some(e) = queue.err().or(dlq.err()) {
                    report
                        .warnings
                        .push(format!("queue retention unknown: {e}"));
                }
            }
        }
    }
}
