//! Alarm rules, stated once: what each alarm watches, its threshold (from the settings), its
//! predictable name (`<queue>-<what>`), and how a series of datapoints decides its state. CloudWatch
//! evaluates them on AWS; the embedded engine evaluates the same rules in process.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::limits::AgeThresholds;
use super::time::{Timestamp, short_duration};

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
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 6] = [
        AlarmKind::AgeWarn,
        AlarmKind::AgeAlarm,
        AlarmKind::DlqNotEmpty,
        AlarmKind::DlqGrowing,
        AlarmKind::FailureRate,
        AlarmKind::NoConsumer,
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

    fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => ">",
            Comparison::GreaterThanOrEqualToThreshold => "≥",
        }
    }

    fn breaches(self, value: f64, threshold: f64) -> bool {
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
}

impl Default for AlarmThresholds {
    fn default() -> Self {
        AlarmThresholds {
            ages: AgeThresholds::default(),
            failure_rate_percent: 10,
            no_consumer: Duration::from_mins(5),
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
                AlarmKind::DlqNotEmpty | AlarmKind::DlqGrowing => (0.0, gt(), 1, 1),
                AlarmKind::FailureRate => (f64::from(t.failure_rate_percent), gt(), 2, 2),
                AlarmKind::NoConsumer => (1.0, ge(), minutes, minutes),
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

/// What one period saw: maxima of the levels, sums of the counts; `None` where nothing was
/// measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PeriodFigures {
    /// Most messages visible in the source queue.
    pub queue_visible: Option<f64>,
    /// Oldest message in the source queue, seconds.
    pub queue_age_secs: Option<f64>,
    /// Most messages visible in the DLQ.
    pub dlq_visible: Option<f64>,
    /// Messages deleted from the source queue.
    pub deleted: Option<f64>,
    /// Vouchers the consumer persisted.
    pub persisted: Option<f64>,
    /// Failures the consumer recorded.
    pub failed: Option<f64>,
}

/// The state a rule's datapoints decide, and why, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub state: AlarmState,
    pub reason: String,
}

impl AlarmRule {
    /// The rule in words, naming its metric: also the alarm's description, so a change of the rule
    /// is a change of the description.
    pub fn describe(&self, queue: &str, dlq: &str) -> String {
        let cmp = self.comparison.symbol();
        let what = match self.kind {
            AlarmKind::AgeWarn | AlarmKind::AgeAlarm => format!(
                "oldest message in {queue} {cmp} {} (AWS/SQS ApproximateAgeOfOldestMessage, Maximum)",
                short_duration(Duration::from_secs_f64(self.threshold))
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
        };
        format!(
            "voucherdeck: {what}, {} of {} one-minute periods",
            self.datapoints, self.periods
        )
    }

    /// The datapoint of one period, given the one before it (a growth needs both).
    pub fn datapoint(&self, this: &PeriodFigures, before: Option<&PeriodFigures>) -> Option<f64> {
        match self.kind {
            AlarmKind::AgeWarn | AlarmKind::AgeAlarm => this.queue_age_secs,
            AlarmKind::DlqNotEmpty => this.dlq_visible,
            AlarmKind::DlqGrowing => Some(this.dlq_visible? - before?.dlq_visible?),
            AlarmKind::FailureRate => {
                if this.failed.is_none() && this.persisted.is_none() {
                    return None;
                }
                let (f, p) = (this.failed.unwrap_or(0.0), this.persisted.unwrap_or(0.0));
                Some(if f + p > 0.0 {
                    100.0 * f / (f + p)
                } else {
                    0.0
                })
            }
            AlarmKind::NoConsumer => {
                let waiting = this.queue_visible? > 0.0;
                let deleting = this.deleted.unwrap_or(0.0) > 0.0;
                Some(if waiting && !deleting { 1.0 } else { 0.0 })
            }
        }
    }

    /// The state the newest datapoints decide (oldest first; a missing one does not breach, as
    /// CloudWatch's `notBreaching`): ALARM when at least `datapoints` of the last `periods` breach.
    pub fn evaluate(&self, datapoints: &[Option<f64>]) -> Evaluation {
        let window = &datapoints[datapoints.len().saturating_sub(self.periods as usize)..];
        let breaching = window
            .iter()
            .flatten()
            .filter(|v| self.comparison.breaches(**v, self.threshold))
            .count();
        let shown: Vec<String> = window
            .iter()
            .map(|v| v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}")))
            .collect();
        let state = if breaching >= self.datapoints as usize {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        let reason = format!(
            "{breaching} of the last {} datapoints [{}] {} the threshold ({}); {} fire{} it",
            window.len(),
            shown.join(", "),
            match self.comparison {
                Comparison::GreaterThanThreshold => "were above",
                Comparison::GreaterThanOrEqualToThreshold => "reached",
            },
            self.threshold,
            self.datapoints,
            if self.datapoints == 1 { "s" } else { "" },
        );
        Evaluation { state, reason }
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

    fn rule(kind: AlarmKind) -> AlarmRule {
        alarm_rules("vouchers", &AlarmThresholds::default())
            .into_iter()
            .find(|r| r.kind == kind)
            .expect("rule")
    }

    #[test]
    fn names_are_predictable_and_thresholds_come_from_settings() {
        let t = AlarmThresholds {
            ages: AgeThresholds::new(Duration::from_secs(90), Duration::from_mins(10)),
            failure_rate_percent: 25,
            no_consumer: Duration::from_mins(7),
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
                "orders-no-consumer"
            ]
        );
        let thresholds: Vec<String> = rules.iter().map(|r| r.threshold.to_string()).collect();
        assert_eq!(thresholds, ["90", "600", "0", "0", "25", "1"]);
        assert_eq!((rules[5].periods, rules[5].datapoints), (7, 7));
        assert!(rules[0].describe("orders", "orders-dlq").contains("1m30s"));
    }

    #[test]
    fn datapoints_follow_the_metric_math() {
        let p = |visible, dlq, deleted, persisted, failed| PeriodFigures {
            queue_visible: visible,
            queue_age_secs: Some(12.0),
            dlq_visible: dlq,
            deleted,
            persisted,
            failed,
        };
        let before = p(Some(3.0), Some(2.0), Some(1.0), None, None);
        let now = p(Some(5.0), Some(6.0), None, Some(30.0), Some(10.0));
        let dp = |k| rule(k).datapoint(&now, Some(&before));
        assert_eq!(dp(AlarmKind::AgeWarn), Some(12.0));
        assert_eq!(dp(AlarmKind::DlqGrowing), Some(4.0));
        assert_eq!(dp(AlarmKind::FailureRate), Some(25.0));
        assert_eq!(
            dp(AlarmKind::NoConsumer),
            Some(1.0),
            "visible, none deleted"
        );
        assert_eq!(
            rule(AlarmKind::NoConsumer).datapoint(&before, None),
            Some(0.0)
        );
        assert_eq!(rule(AlarmKind::DlqGrowing).datapoint(&now, None), None);
        assert_eq!(
            rule(AlarmKind::FailureRate).datapoint(&PeriodFigures::default(), None),
            None
        );
    }

    #[test]
    fn evaluation_needs_enough_breaching_datapoints() {
        let r = rule(AlarmKind::FailureRate);
        assert_eq!(r.evaluate(&[]).state, AlarmState::Ok);
        assert_eq!(r.evaluate(&[Some(50.0)]).state, AlarmState::Ok);
        let fired = r.evaluate(&[Some(0.0), Some(50.0), Some(11.0)]);
        assert_eq!(fired.state, AlarmState::Alarm);
        assert!(
            fired
                .reason
                .starts_with("2 of the last 2 datapoints [50.0, 11.0]"),
            "{}",
            fired.reason
        );
        assert_eq!(
            r.evaluate(&[Some(50.0), None]).state,
            AlarmState::Ok,
            "missing is not breaching"
        );
        let age = rule(AlarmKind::AgeWarn);
        assert_eq!(age.evaluate(&[Some(60.0)]).state, AlarmState::Alarm);
        assert_eq!(age.evaluate(&[Some(59.0)]).state, AlarmState::Ok);
        assert_eq!(AlarmState::parse("ALARM"), AlarmState::Alarm);
        assert_eq!(AlarmState::parse("?"), AlarmState::InsufficientData);
    }
}
