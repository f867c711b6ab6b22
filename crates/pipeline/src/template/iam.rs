//! The IAM roles of `assets/iam/` and its queue policies as CloudFormation resources: the policy
//! documents themselves, with their example account and names turned into the stack's.

use serde_json::{Value, json};

use super::cfn::subs;
use super::storage::{DLQ, QUEUE, TABLE_IDS};
use voucherdeck_core::backend::Names;

/// The account id the policy files are written for.
const EXAMPLE_ACCOUNT: &str = "111122223333";

/// A policy document of `assets/iam/`, by its file's stem (`worker`, `queue-policy`, …).
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub stem: String,
    pub document: Value,
}

/// The role that attaches a policy file, as a logical id (`WorkerRole`), or `None` for a queue
/// policy.
pub fn role_id(stem: &str) -> Option<String> {
    if stem.ends_with("-policy") {
        return None;
    }
    let mut c = stem.chars();
    let first = c.next()?.to_uppercase().collect::<String>();
    Some(format!("{first}{}Role", c.as_str()))
}

/// Every string of `doc` with the example names and ARNs (those of `example`, in account
/// 111122223333) replaced by the stack's: its resources' ARNs, the `QueueName` parameter for
/// alarm names, the stack's account and partition for the rest.
pub fn localise(doc: &Value, example: &Names, roles: &[String]) -> Value {
    let arn = |service: &str, tail: &str| format!("arn:aws:{service}:*:{EXAMPLE_ACCOUNT}:{tail}");
    let mut map: Vec<(String, String)> = vec![
        (arn("sqs", &example.dlq), format!("${{{DLQ}.Arn}}")),
        (arn("sqs", &example.queue), format!("${{{QUEUE}.Arn}}")),
        (
            arn("cloudwatch", &format!("alarm:{}-*", example.queue)),
            "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${QueueName}-*".into(),
        ),
    ];
    let tables = [
        &example.table,
        &example.quota_table,
        &example.failure_table,
        &example.audit_table,
        &example.key_table,
    ];
    for (name, id) in tables.into_iter().zip(TABLE_IDS) {
        map.push((
            arn("dynamodb", &format!("table/{name}")),
            format!("${{{id}.Arn}}"),
        ));
    }
    for role in roles {
        let stem = role.trim_end_matches("Role").to_lowercase();
        map.push((
            format!("arn:aws:iam::{EXAMPLE_ACCOUNT}:role/voucherdeck-{stem}"),
            format!("${{{role}.Arn}}"),
        ));
    }
    subs(replace(doc, &map))
}

fn replace(v: &Value, map: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => {
            let exact = map
                .iter()
                .find(|(from, _)| from == s)
                .map(|(_, to)| to.clone());
            Value::String(exact.unwrap_or_else(|| {
                s.replace(&format!(":{EXAMPLE_ACCOUNT}:"), ":${AWS::AccountId}:")
                    .replace("arn:aws:", "arn:${AWS::Partition}:")
            }))
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| replace(v, map)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), replace(v, map)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A role for people and processes of this account, with the policy `doc`.
pub fn role(stem: &str, doc: &Value) -> Value {
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": format!("voucherdeck {stem} (assets/iam/{stem}.json)"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                    "Action": "sts:AssumeRole",
                }],
            },
            "Policies": [{"PolicyName": format!("voucherdeck-{stem}"), "PolicyDocument": doc}],
        },
    })
}

/// A queue policy `doc` on the queue with logical id `queue`.
pub fn queue_policy(queue: &str, doc: &Value) -> Value {
    json!({
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"Queues": [{"Ref": queue}], "PolicyDocument": doc},
    })
}

/// `doc` with `extra` (a role's logical id) allowed wherever the role `like` is named: the
/// Lambda function's role sends poison to the DLQ as the worker's does.
pub fn also_as(doc: Value, like: &str, extra: &str) -> Value {
    let like = json!({ "Fn::Sub": format!("${{{like}.Arn}}") });
    let extra = json!({ "Fn::Sub": format!("${{{extra}.Arn}}") });
    add_beside(doc, &like, &extra)
}

fn add_beside(v: Value, like: &Value, extra: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let named = a.contains(like);
            let mut a: Vec<Value> = a.into_iter().map(|v| add_beside(v, like, extra)).collect();
            if named {
                a.push(extra.clone());
            }
            Value::Array(a)
        }
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = if &v == like {
                        Value::Array(vec![v, extra.clone()])
                    } else {
                        add_beside(v, like, extra)
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}
