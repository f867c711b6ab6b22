//! Status: depth, oldest age and recent failures in one report, each figure with its source and time.

use serde::Serialize;

use super::alarms::AlarmReport;
use super::services::Pipeline;
use crate::backend::{BackendInfo, BackendKind};
use crate::domain::{FailureRecord, Timestamp};
use crate::ports::{AgeReading, QueueStats, Result};

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
        let ages = match self.ages().await {
            Ok(a) => Some(a),
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
        Ok(StatusReport {
            backend: self.backend().info.clone(),
            queue: QueueFigures::new(&names.queue, &queue, ages.as_ref().map(|a| &a.0), source),
            dlq: QueueFigures::new(&names.dlq, &dlq, ages.as_ref().map(|a| &a.1), source),
            recent_failures,
            alarms,
            warnings,
            as_of: queue.as_of,
        })
    }
}
