//! The template's parameters (names, queue settings, thresholds, the function's settings), each
//! defaulting to this configuration, and its outputs (URLs and ARNs).

use serde_json::{Map, Value, json};

use super::alarms::threshold_parameter;
use super::cfn::{get_att, reference};
use super::function::{FUNCTION, MAPPING};
use super::options::TemplateOptions;
use super::storage::{DLQ, QUEUE, TABLE_IDS};
use crate::services::Pipeline;
use voucherdeck_core::domain::{AlarmKind, AlarmRule};

/// A visibility timeout at least six times the function's timeout, as AWS advises.
const VISIBILITY_PER_TIMEOUT: u64 = 6;

fn text(description: &str, default: &str) -> Value {
    json!({"Type": "String", "Description": description, "Default": default, "MinLength": 1})
}

/// A number parameter; a whole default is written as an integer (as the properties want it).
fn number(description: &str, default: f64, min: u64, max: u64) -> Value {
    let default = if default.fract() == 0.0 && default >= 0.0 {
        json!(default as u64)
    } else {
        json!(default)
    };
    json!({"Type": "Number", "Description": description, "Default": default, "MinValue": min, "MaxValue": max})
}

/// The parameters the template's resources refer to.
pub fn parameters(p: &Pipeline, opts: &TemplateOptions, rules: &[AlarmRule]) -> Value {
    let mut out = Map::new();
    out.extend(queue_parameters(p));
    if opts.alarms {
        out.extend(alarm_parameters(opts, rules));
    }
    if opts.lambda {
        out.extend(function_parameters(p));
    }
    Value::Object(out)
}

type Parameters = Vec<(String, Value)>;

fn queue_parameters(p: &Pipeline) -> Parameters {
    let names = &p.backend().names;
    let cfg = p.config();
    let visibility = cfg.visibility_timeout.as_secs() as f64;
    let receives = f64::from(cfg.max_receive_count);
    vec![
        ("QueueName".into(), text("The voucher queue", &names.queue)),
        ("DlqName".into(), text("Its dead-letter queue", &names.dlq)),
        (
            "TableName".into(),
            text(
                "The vouchers table (and the base of the others' names)",
                &names.table,
            ),
        ),
        (
            "VisibilityTimeout".into(),
            number(
                "Seconds a received message stays hidden",
                visibility,
                0,
                43_200,
            ),
        ),
        (
            "MaxReceiveCount".into(),
            number(
                "Receives before SQS moves a message to the DLQ",
                receives,
                1,
                1000,
            ),
        ),
    ]
}

fn alarm_parameters(opts: &TemplateOptions, rules: &[AlarmRule]) -> Parameters {
    let topic = opts.sns_topic.clone().unwrap_or_default();
    let mut out: Parameters = vec![(
        "AlarmTopicArn".into(),
        json!({"Type": "String", "Description": "SNS topic the alarms notify when they fire and clear (empty: none)", "Default": topic}),
    )];
    for rule in rules {
        if let Some(name) = threshold_parameter(rule.kind) {
            let max = if name.ends_with("Percent") {
                100
            } else {
                1_209_600
            };
            let what = format!("Threshold of the {} alarm", rule.kind.suffix());
            out.push((name.into(), number(&what, rule.threshold, 0, max)));
        }
        if rule.kind == AlarmKind::NoConsumer {
            let what = "Minutes of waiting messages and no deletes before the no-consumer alarm";
            out.push((
                "NoConsumerMinutes".into(),
                number(what, f64::from(rule.periods), 1, 1440),
            ));
        }
    }
    out
}

fn function_parameters(p: &Pipeline) -> Parameters {
    // A function name takes letters, digits, - and _: a FIFO queue's `.fifo` is left out.
    let names = &p.backend().names.queue;
    let queue = names.strip_suffix(".fifo").unwrap_or(names);
    let visibility = p.config().visibility_timeout.as_secs();
    let timeout = (visibility / VISIBILITY_PER_TIMEOUT).clamp(1, 900) as f64;
    vec![
        (
            "FunctionName".into(),
            text("The consumer function", &format!("{queue}-consumer")),
        ),
        (
            "FunctionCodeBucket".into(),
            json!({"Type": "String", "Description": "S3 bucket of the function's zip (the voucherdeck binary as `bootstrap`)", "MinLength": 3}),
        ),
        (
            "FunctionCodeKey".into(),
            text("S3 key of the function's zip", "voucherdeck-lambda.zip"),
        ),
        (
            "FunctionArchitecture".into(),
            json!({"Type": "String", "Default": "x86_64", "AllowedValues": ["x86_64", "arm64"], "Description": "The architecture the binary was built for"}),
        ),
        (
            "FunctionMemory".into(),
            number("Memory of the function, MB", 256.0, 128, 10_240),
        ),
        (
            "FunctionTimeout".into(),
            number(
                "Seconds an invocation may run (keep VisibilityTimeout at least six times this)",
                timeout,
                1,
                900,
            ),
        ),
        (
            "BatchSize".into(),
            number("Messages per invocation", 10.0, 1, 10_000),
        ),
        (
            "BatchingWindowSeconds".into(),
            number("Seconds the mapping may wait to fill a batch", 0.0, 0, 300),
        ),
        (
            "MaximumConcurrency".into(),
            number(
                "Most invocations at once (the mapping's ScalingConfig)",
                10.0,
                2,
                1000,
            ),
        ),
        (
            "LogRetentionDays".into(),
            json!({"Type": "Number", "Default": 14, "Description": "Days the function's logs are kept", "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 180, 365]}),
        ),
    ]
}

/// URLs and ARNs of what the stack made.
pub fn outputs(opts: &TemplateOptions, roles: &[String]) -> Value {
    let mut out = Map::new();
    let mut put = |k: &str, description: &str, v: Value| {
        out.insert(
            k.to_string(),
            json!({"Description": description, "Value": v}),
        );
    };
    put("QueueUrl", "The voucher queue's URL", reference(QUEUE));
    put("QueueArn", "The voucher queue's ARN", get_att(QUEUE, "Arn"));
    put("DeadLetterQueueUrl", "The DLQ's URL", reference(DLQ));
    put("DeadLetterQueueArn", "The DLQ's ARN", get_att(DLQ, "Arn"));
    for id in TABLE_IDS {
        put(
            &format!("{id}Arn"),
            &format!("{id}'s ARN"),
            get_att(id, "Arn"),
        );
    }
    for role in roles {
        put(
            &format!("{role}Arn"),
            &format!("{role}'s ARN"),
            get_att(role, "Arn"),
        );
    }
    if opts.lambda {
        put(
            "FunctionArn",
            "The consumer function's ARN",
            get_att(FUNCTION, "Arn"),
        );
        put(
            "EventSourceMappingId",
            "The event source mapping (pause: Enabled; scale: ScalingConfig.MaximumConcurrency)",
            reference(MAPPING),
        );
    }
    Value::Object(out)
}
