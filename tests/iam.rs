//! The IAM policies in `assets/iam/` allow every AWS operation the code calls to the roles that
//! call it, the watcher can change nothing but its own audit entries, and no role may delete or
//! update audit entries (an explicit Deny). The operations are read from the code: every
//! `"service:Operation"` a call under `crates/aws/src/` names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

const ROLES: [&str; 4] = ["watcher", "worker", "operator", "intake"];

/// Who needs each operation the code calls (by its IAM action). A new call in `crates/aws/src/` fails
/// this test until it is placed here and in the policies.
const NEEDED_BY: &[(&str, &[&str])] = &[
    (
        "sqs:GetQueueUrl",
        &["watcher", "worker", "operator", "intake"],
    ),
    (
        "sqs:GetQueueAttributes",
        &["watcher", "worker", "operator", "intake"],
    ),
    ("sqs:ReceiveMessage", &["worker", "operator"]),
    ("sqs:DeleteMessage", &["worker", "operator"]),
    ("sqs:ChangeMessageVisibility", &["worker", "operator"]),
    ("sqs:SendMessage", &["worker", "operator", "intake"]),
    ("sqs:ListDeadLetterSourceQueues", &["watcher", "operator"]),
    ("sqs:ListMessageMoveTasks", &["watcher", "operator"]),
    ("sqs:StartMessageMoveTask", &["operator"]),
    ("sqs:CancelMessageMoveTask", &["operator"]),
    ("sqs:PurgeQueue", &["operator"]),
    ("sqs:CreateQueue", &["operator"]),
    ("sqs:SetQueueAttributes", &["operator"]),
    ("dynamodb:BatchGetItem", &["worker", "operator"]),
    (
        "dynamodb:BatchWriteItem",
        &["watcher", "worker", "operator", "intake"],
    ),
    ("dynamodb:GetItem", &["operator", "intake"]),
    ("dynamodb:PutItem", &["watcher", "operator", "intake"]),
    ("dynamodb:UpdateItem", &["operator", "intake"]),
    ("dynamodb:Query", &["watcher", "operator", "intake"]),
    ("dynamodb:Scan", &["operator"]),
    ("dynamodb:CreateTable", &["operator"]),
    ("dynamodb:DescribeTable", &["operator"]),
    ("dynamodb:UpdateTimeToLive", &["operator"]),
    ("cloudwatch:GetMetricData", &["watcher", "operator"]),
    (
        "cloudwatch:PutMetricData",
        &["worker", "operator", "intake"],
    ),
    ("cloudwatch:DescribeAlarms", &["watcher", "operator"]),
    ("cloudwatch:PutMetricAlarm", &["operator"]),
];

/// Operations any caller may make without a policy.
const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read crates/aws/src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The IAM action of an SDK operation: batch calls are authorised as their single form.
fn iam_action(op: &str) -> String {
    match op {
        "sqs:SendMessageBatch" | "sqs:DeleteMessageBatch" | "sqs:ChangeMessageVisibilityBatch" => {
            op.trim_end_matches("Batch").to_string()
        }
        _ => op.to_string(),
    }
}

/// Every `"service:Operation"` literal in `crates/aws/src/`, outside its tests, as an IAM action.
fn operations_in_code() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("crates/aws/src"), &mut files);
    let mut ops = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for literal in code.split('"').skip(1).step_by(2) {
            let Some((service, op)) = literal.split_once(':') else {
                continue;
            };
            let is_op = ["sqs", "dynamodb", "cloudwatch", "sts"].contains(&service)
                && op.starts_with(|c: char| c.is_ascii_uppercase())
                && op.chars().all(|c| c.is_ascii_alphanumeric());
            if is_op {
                ops.insert(iam_action(literal));
            }
        }
    }
    ops
}

fn policy(name: &str) -> Value {
    let path = root().join("assets/iam").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Each action of a role's policy with `effect` (`Allow` or `Deny`), with its resources.
fn actions(role: &str, effect: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let doc = policy(role);
    assert_eq!(doc["Version"], "2012-10-17", "{role}");
    for s in doc["Statement"].as_array().expect("statements") {
        assert!(
            s["Effect"] == "Allow" || s["Effect"] == "Deny",
            "{role}: {s}"
        );
        assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none());
        if s["Effect"] != effect {
            continue;
        }
        for action in strings(&s["Action"]) {
            assert!(
                !action.contains('*'),
                "{role}: no wildcard actions ({action})"
            );
            out.entry(action)
                .or_default()
                .extend(strings(&s["Resource"]));
        }
    }
    out
}

/// Each allowed action of a role's policy, with the resources it is allowed on.
fn allowed(role: &str) -> BTreeMap<String, BTreeSet<String>> {
    actions(role, "Allow")
}

const AUDIT_TABLE: &str = ":table/vouchers-audit";

#[test]
fn no_role_may_delete_or_update_audit_entries() {
    // Everything that removes or rewrites an item, or the table, apart from a put: denied
    // explicitly, so no other policy attached to the role can grant it.
    let rewrites = [
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:PartiQLDelete",
        "dynamodb:PartiQLUpdate",
        "dynamodb:DeleteTable",
    ];
    // What a role may do on the audit table: read it, add entries, and (the operator) create it.
    let permitted = [
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTimeToLive",
    ];
    for role in ROLES {
        let denied = actions(role, "Deny");
        for action in rewrites {
            assert!(
                denied
                    .get(action)
                    .is_some_and(|r| r.iter().any(|r| r.ends_with(AUDIT_TABLE))),
                "{role}.json does not deny {action} on the audit table"
            );
        }
        for (action, resources) in allowed(role) {
            let on_audit = resources
                .iter()
                .any(|r| r.ends_with(AUDIT_TABLE) || r == "*");
            if action.starts_with("dynamodb:") && on_audit {
                assert!(
                    permitted.contains(&action.as_str()),
                    "{role}.json allows {action} on the audit table"
                );
            }
        }
    }
}

#[test]
fn every_operation_the_code_calls_is_placed_and_allowed() {
    let needed: BTreeMap<&str, &[&str]> = NEEDED_BY.iter().copied().collect();
    let in_code = operations_in_code();
    assert!(
        in_code.contains("sqs:ReceiveMessage"),
        "the scan finds the calls: {in_code:?}"
    );
    for op in &in_code {
        if NEEDS_NO_PERMISSION.contains(&op.as_str()) {
            continue;
        }
        let roles = needed.get(op.as_str()).unwrap_or_else(|| {
            panic!("{op} is called in crates/aws/src but no role is given it here")
        });
        for role in *roles {
            assert!(
                allowed(role).contains_key(op),
                "{role}.json does not allow {op}"
            );
        }
    }
    for role in ROLES {
        for action in allowed(role).keys() {
            let roles = needed.get(action.as_str()).copied().unwrap_or_default();
            assert!(
                roles.contains(&role),
                "{role}.json allows {action}, which the table does not give it (least privilege)"
            );
        }
    }
}

#[test]
fn the_watcher_changes_nothing_but_its_audit_entries() {
    let reads = [
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:ListDeadLetterSourceQueues",
        "sqs:ListMessageMoveTasks",
        "dynamodb:Query",
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",
    ];
    for (action, resources) in allowed("watcher") {
        if reads.contains(&action.as_str()) {
            continue;
        }
        assert!(
            ["dynamodb:PutItem", "dynamodb:BatchWriteItem"].contains(&action.as_str()),
            "the watcher may not {action}"
        );
        assert!(
            resources
                .iter()
                .all(|r| r.ends_with(":table/vouchers-audit")),
            "the watcher writes only the audit log: {resources:?}"
        );
    }
}

#[test]
fn the_worker_cannot_overwrite_or_delete_vouchers() {
    let worker = allowed("worker");
    for forbidden in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ] {
        assert!(
            !worker.contains_key(forbidden),
            "worker.json allows {forbidden}"
        );
    }
    let sends = &worker["sqs:SendMessage"];
    assert!(
        sends.iter().all(|r| r.ends_with(":vouchers-dlq")),
        "{sends:?}"
    );
}

#[test]
fn queue_policies_let_only_the_named_roles_send() {
    for (file, queue, senders) in [
        (
            "queue-policy",
            "vouchers",
            ["voucherdeck-intake", "voucherdeck-operator"],
        ),
        (
            "dlq-policy",
            "vouchers-dlq",
            ["voucherdeck-worker", "voucherdeck-operator"],
        ),
    ] {
        let doc = policy(file);
        let deny = doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Effect"] == "Deny")
            .unwrap_or_else(|| panic!("{file}: a Deny for everyone else"));
        assert_eq!(deny["Principal"], "*", "{file}");
        assert_eq!(strings(&deny["Action"]), ["sqs:SendMessage"], "{file}");
        assert!(
            strings(&deny["Resource"])[0].ends_with(&format!(":{queue}")),
            "{file}"
        );
        let allowed = strings(&deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]);
        let names: Vec<&str> = allowed
            .iter()
            .map(|a| a.rsplit('/').next().unwrap_or_default())
            .collect();
        assert_eq!(names, senders, "{file}");
    }
}
