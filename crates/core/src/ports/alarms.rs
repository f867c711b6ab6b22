//! The alarms port (CloudWatch alarms): put an alarm for a rule, read alarms back with their state.

use async_trait::async_trait;
use serde::Serialize;

use super::error::Result;
use crate::domain::{AlarmRule, AlarmStatus, Comparison};

/// An alarm to create or update: the rule, the queues it watches, and whom it notifies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSpec {
    pub rule: AlarmRule,
    pub queue: String,
    pub dlq: String,
    /// SNS topics told when it fires and when it clears.
    pub actions: Vec<String>,
}

impl AlarmSpec {
    /// What the alarm's configuration reads back as when it matches this spec.
    pub fn config(&self) -> AlarmConfig {
        let mut actions = self.actions.clone();
        actions.sort();
        AlarmConfig {
            description: self.rule.describe(&self.queue, &self.dlq),
            threshold: self.rule.threshold,
            comparison: Some(self.rule.comparison),
            periods: self.rule.periods,
            datapoints: self.rule.datapoints,
            alarm_actions: actions.clone(),
            ok_actions: actions,
        }
    }
}

/// The parts of an alarm's configuration a re-run compares (the description names the metric).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmConfig {
    pub description: String,
    pub threshold: f64,
    pub comparison: Option<Comparison>,
    pub periods: u32,
    pub datapoints: u32,
    /// Sorted.
    pub alarm_actions: Vec<String>,
    /// Sorted.
    pub ok_actions: Vec<String>,
}

impl AlarmConfig {
    /// What differs from `wanted`, in words (empty: nothing).
    pub fn differences(&self, wanted: &AlarmConfig) -> Vec<String> {
        let mut out = Vec::new();
        if self.description != wanted.description {
            out.push("rule".to_string());
        }
        // Thresholds are whole numbers of seconds, percent or messages: a tiny margin is exact.
        if (self.threshold - wanted.threshold).abs() > 1e-9 {
            out.push(format!(
                "threshold {} → {}",
                self.threshold, wanted.threshold
            ));
        }
        if self.comparison != wanted.comparison {
            out.push("comparison".to_string());
        }
        if (self.periods, self.datapoints) != (wanted.periods, wanted.datapoints) {
            out.push(format!(
                "periods {} of {} → {} of {}",
                self.datapoints, self.periods, wanted.datapoints, wanted.periods
            ));
        }
        if self.alarm_actions != wanted.alarm_actions || self.ok_actions != wanted.ok_actions {
            out.push("notifications".to_string());
        }
        out
    }
}

/// An alarm as the service has it: its state and its configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmRecord {
    pub status: AlarmStatus,
    pub config: AlarmConfig,
}

/// Alarms (CloudWatch on AWS). `Unsupported` where the endpoint has no CloudWatch.
#[async_trait]
pub trait Alarms: Send + Sync + 'static {
    /// The alarms with these names that exist, with their state (one call per 100 names).
    async fn describe(&self, names: &[String]) -> Result<Vec<AlarmRecord>>;
    /// Creates the alarm, or replaces its configuration (its state is kept).
    async fn put(&self, spec: &AlarmSpec) -> Result<()>;
}
