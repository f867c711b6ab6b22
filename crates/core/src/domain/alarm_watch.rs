//! What each alarm watches, as data: one metric's statistic, or metric math over several (its
//! last part is the expression the alarm compares). The AWS backend puts alarms from this and the
//! CloudFormation template declares them from the same.

use super::alarm::AlarmKind;
use super::metric_names::{METRIC_FAILED, METRIC_PERSISTED, METRICS_NAMESPACE, QUEUE_DIMENSION};

/// Every alarm's period, in seconds.
pub const ALARM_PERIOD_SECS: u32 = 60;

/// A metric with one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRef {
    pub namespace: &'static str,
    pub name: &'static str,
    pub dimension: &'static str,
    /// The dimension's value: a queue's name.
    pub value: String,
}

/// One statistic of a metric, as input `id` of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricInput {
    pub id: &'static str,
    pub metric: MetricRef,
    pub stat: &'static str,
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmWatch {
    Metric {
        metric: MetricRef,
        stat: &'static str,
    },
    /// Metric math: the inputs, then the expression (id `e`) the alarm compares.
    Math {
        inputs: Vec<MetricInput>,
        expression: &'static str,
        label: &'static str,
    },
}

fn sqs(name: &'static str, queue: &str) -> MetricRef {
    MetricRef {
        namespace: "AWS/SQS",
        name,
        dimension: "QueueName",
        value: queue.to_string(),
    }
}

fn own(name: &'static str, queue: &str) -> MetricRef {
    MetricRef {
        namespace: METRICS_NAMESPACE,
        name,
        dimension: QUEUE_DIMENSION,
        value: queue.to_string(),
    }
}

fn input(id: &'static str, metric: MetricRef, stat: &'static str) -> MetricInput {
    MetricInput { id, metric, stat }
}

const VISIBLE: &str = "ApproximateNumberOfMessagesVisible";

/// What an alarm of `kind` watches for the queue `queue` and its DLQ `dlq`.
pub fn alarm_watch(kind: AlarmKind, queue: &str, dlq: &str) -> AlarmWatch {
    match kind {
        AlarmKind::AgeWarn | AlarmKind::AgeAlarm => AlarmWatch::Metric {
            metric: sqs("ApproximateAgeOfOldestMessage", queue),
            stat: "Maximum",
        },
        AlarmKind::DlqNotEmpty => AlarmWatch::Metric {
            metric: sqs(VISIBLE, dlq),
            stat: "Maximum",
        },
        AlarmKind::DlqGrowing => AlarmWatch::Math {
            inputs: vec![input("dlq", sqs(VISIBLE, dlq), "Maximum")],
            expression: "DIFF(dlq)",
            label: "DLQ growth",
        },
        AlarmKind::FailureRate => AlarmWatch::Math {
            inputs: vec![
                input("f", own(METRIC_FAILED, queue), "Sum"),
                input("p", own(METRIC_PERSISTED, queue), "Sum"),
            ],
            expression: "IF((FILL(f, 0) + FILL(p, 0)) > 0, 100 * FILL(f, 0) / (FILL(f, 0) + FILL(p, 0)), 0)",
            label: "failures, % of attempts",
        },
        AlarmKind::NoConsumer => AlarmWatch::Math {
            inputs: vec![
                input("v", sqs(VISIBLE, queue), "Maximum"),
                input("d", sqs("NumberOfMessagesDeleted", queue), "Sum"),
            ],
            expression: "IF(v > 0 AND FILL(d, 0) == 0, 1, 0)",
            label: "waiting with no deletes",
        },
        AlarmKind::Intake5xx => intake_share("Intake5xx", "5xx answers, % of requests", queue),
        AlarmKind::Intake429 => intake_share("Intake429", "429 answers, % of requests", queue),
        AlarmKind::AuditLost => AlarmWatch::Metric {
            metric: own("AuditEntriesLost", queue),
            stat: "Sum",
        },
    }
}

/// The intake's `answers` as a share of its requests; no requests, no datapoint (an idle or absent
/// intake is missing data, which does not breach).
fn intake_share(answers: &'static str, label: &'static str, queue: &str) -> AlarmWatch {
    AlarmWatch::Math {
        inputs: vec![
            input("a", own(answers, queue), "Sum"),
            input("r", own("IntakeRequests", queue), "Sum"),
        ],
        expression: "IF(r > 0, 100 * FILL(a, 0) / r, 0)",
        label,
    }
}
