//! Alarm rules, stated once: what each alarm watches, its threshold (from the settings) and its
//! predictable name (`<queue>-<what>`); `alarm_eval` says how a series of datapoints decides its
//! state. CloudWatch evaluates them on AWS; the embedded engine evaluates the same rules in
//! process.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::limits::AgeThresholds;
use super::time::Timestamp;

/// What an alarm watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// The oldest message in the queue is past the warning age.
    AgeWarn,
    /// The oldest message in the queue is past the alarm age.
    AgeAlarm,
    /// The DLQ holds messages.
    DlqNotEmpty,
    /// The DLQ grew during the period.
    DlqGrowing,
    /// The consumer's failures, as a share of its processing attempts, are above the threshold.
    FailureRate,
    /// Messages wait visible while nothing is deleted: no consumer is running.
    NoConsumer,
    /// The intake API's 5xx answers, as a share of its requests, are above the threshold.
    Intake5xx,
    /// The intake API's 429 answers, as a share of its requests, are above the threshold.
    Intake429,
    /// The intake API could not write audit entries, even after its retries: they are lost.
    AuditLost,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 9] = [
        AlarmKind::AgeWarn,
        AlarmKind::AgeAlarm,
        AlarmKind::DlqNotEmpty,
        AlarmKind::DlqGrowing,
        AlarmKind::FailureRate,
        AlarmKind::NoConsumer,
        AlarmKind::Intake5xx,
        AlarmKind::Intake429,
        AlarmKind::AuditLost,
    ];

    /// The end of the alarm's name: `vouchers-age-warn`.
    pub const fn suffix(self) -> &'static str {
        match self {
            AlarmKind::AgeWarn => "age-warn",
            AlarmKind::AgeAlarm => "age-alarm",
            AlarmKind::DlqNotEmpty => "dlq-not-empty",
            AlarmKind::DlqGrowing => "dlq-growing",
            AlarmKind::FailureRate => "failure-rate",
            AlarmKind::NoConsumer => "no-consumer",
            AlarmKind::Intake5xx => "intake-5xx",
            AlarmKind::Intake429 => "intake-429",
            AlarmKind::AuditLost => "audit-lost",
        }
    }
}

/// How a datapoint is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    GreaterThanThreshold,
    GreaterThanOrEqualToThreshold,
}

impl Comparison {
    /// CloudWatch's name for it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
        }
    }

    pub fn parse(s: &str) -> Option<Comparison> {
        [
            Comparison::GreaterThanThreshold,
            Comparison::GreaterThanOrEqualToThreshold,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// How a description writes it.
    pub const fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => ">",
            Comparison::GreaterThanOrEqualToThreshold => "≥",
        }
    }

    pub(super) fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
        }
    }
}

/// An alarm's state, as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    InsufficientData,
    Alarm,
}

impl AlarmState {
    pub const fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Alarm => "ALARM",
        }
    }

    pub fn parse(s: &str) -> AlarmState {
        match s {
            "OK" => AlarmState::Ok,
            "ALARM" => AlarmState::Alarm,
            _ => AlarmState::InsufficientData,
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The thresholds the alarms use, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmThresholds {
    /// Oldest-message age: warning and alarm.
    pub ages: AgeThresholds,
    /// Failures in percent of processing attempts (see `limits::FAILURE_RATE_PERCENT`).
    pub failure_rate_percent: u32,
    /// How long messages may wait while nothing is deleted (whole minutes).
    pub no_consumer: Duration,
    /// The intake's 5xx answers in percent of its requests (see `limits::INTAKE_ALARM_PERCENT`).
    pub intake_5xx_percent: u32,
    /// The intake's 429 answers in percent of its requests (see `limits::INTAKE_ALARM_PERCENT`).
    pub intake_429_percent: u32,
}

impl Default for AlarmThresholds {
    fn default() -> Self {
        AlarmThresholds {
            ages: AgeThresholds::default(),
            failure_rate_percent: 10,
            no_consumer: Duration::from_mins(5),
            intake_5xx_percent: 5,
            intake_429_percent: 20,
        }
    }
}

/// One alarm: what it watches, when it fires, and its name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmRule {
    pub kind: AlarmKind,
    pub name: String,
    pub threshold: f64,
    pub comparison: Comparison,
    /// Periods evaluated (CloudWatch's EvaluationPeriods).
    pub periods: u32,
    /// Breaching periods among them that fire the alarm (DatapointsToAlarm).
    pub datapoints: u32,
}

/// The CloudWatch period the rules are written for.
pub const ALARM_PERIOD: Duration = Duration::from_mins(1);

/// Every alarm of the pipeline whose source queue is `queue`, in [`AlarmKind::ALL`] order.
pub fn alarm_rules(queue: &str, t: &AlarmThresholds) -> Vec<AlarmRule> {
    let minutes = (t.no_consumer.as_secs() / 60).max(1) as u32;
    AlarmKind::ALL
        .into_iter()
        .map(|kind| {
            let (threshold, comparison, periods, datapoints) = match kind {
                AlarmKind::AgeWarn => (secs(t.ages.warn()), ge(), 1, 1),
                AlarmKind::AgeAlarm => (secs(t.ages.alarm()), ge(), 1, 1),
                AlarmKind::DlqNotEmpty | AlarmKind::DlqGrowing | AlarmKind::AuditLost => {
                    (0.0, gt(), 1, 1)
                }
                AlarmKind::FailureRate => (f64::from(t.failure_rate_percent), gt(), 2, 2),
                AlarmKind::NoConsumer => (1.0, ge(), minutes, minutes),
                AlarmKind::Intake5xx => (f64::from(t.intake_5xx_percent), gt(), 2, 2),
                AlarmKind::Intake429 => (f64::from(t.intake_429_percent), gt(), 2, 2),
            };
            AlarmRule {
                kind,
                name: alarm_name(queue, kind),
                threshold,
                comparison,
                periods,
                datapoints,
            }
        })
        .collect()
}

/// `vouchers-age-warn`.
pub fn alarm_name(queue: &str, kind: AlarmKind) -> String {
    format!("{queue}-{}", kind.suffix())
}

fn secs(d: Duration) -> f64 {
    d.as_secs() as f64
}

const fn ge() -> Comparison {
    Comparison::GreaterThanOrEqualToThreshold
}

const fn gt() -> Comparison {
    Comparison::GreaterThanThreshold
}

impl AlarmRule {
    /// The rule in words, naming its metric: also the alarm's description, so a change of the rule
    /// is a change of the description.
    pub fn describe(&self, queue: &str, dlq: &str) -> String {
        let cmp = self.comparison.symbol();
        let what = match self.kind {
            AlarmKind::AgeWarn | AlarmKind::AgeAlarm => format!(
                "oldest message in {queue} {cmp} {} s (AWS/SQS ApproximateAgeOfOldestMessage, Maximum)",
                self.threshold
            ),
            AlarmKind::DlqNotEmpty => format!(
                "{dlq} holds messages (AWS/SQS ApproximateNumberOfMessagesVisible, Maximum {cmp} {})",
                self.threshold
            ),
            AlarmKind::DlqGrowing => format!(
                "{dlq} grew (DIFF of AWS/SQS ApproximateNumberOfMessagesVisible {cmp} {})",
                self.threshold
            ),
            AlarmKind::FailureRate => format!(
                "consumer failures {cmp} {} % of attempts on {queue} (Voucherdeck VouchersFailed / \
                 (VouchersFailed + VouchersPersisted))",
                self.threshold
            ),
            AlarmKind::NoConsumer => format!(
                "messages visible in {queue} while none is deleted (AWS/SQS \
                 ApproximateNumberOfMessagesVisible > 0 and NumberOfMessagesDeleted = 0)"
            ),
            AlarmKind::Intake5xx | AlarmKind::Intake429 => {
                let status = if self.kind == AlarmKind::Intake5xx {
                    "5xx"
                } else {
                    "429"
                };
                format!(
                    "intake API {status} answers {cmp} {} % of requests for {queue} (Voucherdeck \
                     Intake{status} / IntakeRequests)",
                    self.threshold
                )
            }
            AlarmKind::AuditLost => format!(
                "audit entries lost by the intake API for {queue} (Voucherdeck AuditEntriesLost, \
                 Sum {cmp} {})",
                self.threshold
            ),
        };
        format!(
            "voucherdeck: {what}, {} of {} one-minute periods",
            self.datapoints, self.periods
        )
    }
}

/// One alarm as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmStatus {
    pub name: String,
    /// Which of voucherdeck's rules it is, when the name says.
    pub kind: Option<AlarmKind>,
    pub state: AlarmState,
    pub reason: String,
    /// When it entered this state.
    pub since: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_predictable_and_thresholds_come_from_settings() {
        let t = AlarmThresholds {
            ages: AgeThresholds::new(Duration::from_secs(90), Duration::from_mins(10)),
            failure_rate_percent: 25,
            no_consumer: Duration::from_mins(7),
            intake_5xx_percent: 2,
            intake_429_percent: 30,
        };
        let rules = alarm_rules("orders", &t);
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "orders-age-warn",
                "orders-age-alarm",
                "orders-dlq-not-empty",
                "orders-dlq-growing",
                "orders-failure-rate",
                "orders-no-consumer",
                "orders-intake-5xx",
                "orders-intake-429",
                "orders-audit-lost"
            ]
        );
        let thresholds: Vec<String> = rules.iter().map(|r| r.threshold.to_string()).collect();
        assert_eq!(
            thresholds,
            ["90", "600", "0", "0", "25", "1", "2", "30", "0"]
        );
        assert!(
            rules[8]
                .describe("orders", "orders-dlq")
                .contains("AuditEntriesLost, Sum > 0")
        );
        assert!(
            rules[6]
                .describe("orders", "orders-dlq")
                .contains("5xx answers > 2 %")
        );
        assert!(
            rules[7]
                .describe("orders", "orders-dlq")
                .contains("Intake429 / IntakeRequests")
        );
        assert_eq!((rules[5].periods, rules[5].datapoints), (7, 7));
        assert!(rules[0].describe("orders", "orders-dlq").contains("≥ 90 s"));
    }
}
