//! The alarms as CloudFormation resources, from the rules and watches `provision --alarms` puts:
//! the same names, descriptions, metrics or metric math, periods and comparisons, with each
//! threshold a parameter (its default the settings').

use serde_json::{Value, json};

use super::cfn::{reference, text, token};
use voucherdeck_core::domain::{
    ALARM_PERIOD_SECS, AlarmKind, AlarmRule, AlarmWatch, MetricRef, alarm_watch,
};

/// The parameter that sets a rule's threshold, if one does.
pub fn threshold_parameter(kind: AlarmKind) -> Option<&'static str> {
    match kind {
        AlarmKind::AgeWarn => Some("AgeWarnSeconds"),
        AlarmKind::AgeAlarm => Some("AgeAlarmSeconds"),
        AlarmKind::FailureRate => Some("FailureRatePercent"),
        AlarmKind::Intake5xx => Some("Intake5xxPercent"),
        AlarmKind::Intake429 => Some("Intake429Percent"),
        AlarmKind::DlqNotEmpty
        | AlarmKind::DlqGrowing
        | AlarmKind::NoConsumer
        | AlarmKind::AuditLost => None,
    }
}

/// The alarm's logical id: `Alarm` and its rule in words (`AlarmAgeWarn`).
pub fn alarm_id(kind: AlarmKind) -> String {
    let words: String = kind
        .suffix()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format!("Alarm{words}")
}

fn dimensions(m: &MetricRef) -> Value {
    json!([{ "Name": m.dimension, "Value": text(&m.value) }])
}

/// `rule` for the queue and DLQ named `queue` and `dlq` (tokens), as an `AWS::CloudWatch::Alarm`.
pub fn alarm(rule: &AlarmRule, queue: &str, dlq: &str) -> Value {
    let param = threshold_parameter(rule.kind);
    let mut description = rule.describe(queue, dlq);
    if let Some(p) = param {
        // The description names the threshold: it names the parameter instead.
        let shown = format!("{} {}", rule.comparison.symbol(), rule.threshold);
        description = description.replace(
            &shown,
            &format!("{} {}", rule.comparison.symbol(), token(p)),
        );
    }
    let (periods, datapoints) = if rule.kind == AlarmKind::NoConsumer {
        (
            reference("NoConsumerMinutes"),
            reference("NoConsumerMinutes"),
        )
    } else {
        (json!(rule.periods), json!(rule.datapoints))
    };
    let mut p = json!({
        "AlarmName": text(&rule.name),
        "AlarmDescription": text(&description),
        "ComparisonOperator": rule.comparison.as_str(),
        "Threshold": param.map_or_else(|| json!(rule.threshold), reference),
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": datapoints,
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": {"Fn::If": ["HasAlarmTopic", true, false]},
        "AlarmActions": {"Fn::If": ["HasAlarmTopic", [reference("AlarmTopicArn")], {"Ref": "AWS::NoValue"}]},
        "OKActions": {"Fn::If": ["HasAlarmTopic", [reference("AlarmTopicArn")], {"Ref": "AWS::NoValue"}]},
    });
    match alarm_watch(rule.kind, queue, dlq) {
        AlarmWatch::Metric { metric, stat } => {
            p["Namespace"] = json!(metric.namespace);
            p["MetricName"] = json!(metric.name);
            p["Dimensions"] = dimensions(&metric);
            p["Statistic"] = json!(stat);
            p["Period"] = json!(ALARM_PERIOD_SECS);
        }
        AlarmWatch::Math {
            inputs,
            expression,
            label,
        } => {
            let mut queries: Vec<Value> = inputs
                .iter()
                .map(|i| {
                    json!({
                        "Id": i.id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": i.metric.namespace,
                                "MetricName": i.metric.name,
                                "Dimensions": dimensions(&i.metric),
                            },
                            "Period": ALARM_PERIOD_SECS,
                            "Stat": i.stat,
                        },
                        "ReturnData": false,
                    })
                })
                .collect();
            queries.push(
                json!({"Id": "e", "Expression": expression, "Label": label, "ReturnData": true}),
            );
            p["Metrics"] = Value::Array(queries);
        }
    }
    json!({ "Type": "AWS::CloudWatch::Alarm", "Properties": p })
}
