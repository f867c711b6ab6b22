//! The IAM policies in `assets/iam/` allow each role exactly what its commands call, on the
//! resources they call it on; no role but the provisioning role creates or configures queues,
//! tables or alarms; metrics go only to the `Voucherdeck` namespace; the watcher can change nothing
//! but its own audit entries; no role may delete or update audit entries (an explicit Deny); and
//! parliament finds nothing the README there does not explain. The operations are read from the
//! code: every `"service:Operation"` a call under `crates/aws/src/` names.

#[path = "support/parliament.rs"]
mod parliament;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

const ROLES: [&str; 5] = ["watcher", "worker", "operator", "intake", "provision"];

const QUEUE: &str = "arn:aws:sqs:*:111122223333:vouchers";
const DLQ: &str = "arn:aws:sqs:*:111122223333:vouchers-dlq";
const VOUCHERS: &str = "arn:aws:dynamodb:*:111122223333:table/vouchers";
const FAILURES: &str = "arn:aws:dynamodb:*:111122223333:table/vouchers-failures";
const QUOTAS: &str = "arn:aws:dynamodb:*:111122223333:table/vouchers-quotas";
const AUDIT: &str = "arn:aws:dynamodb:*:111122223333:table/vouchers-audit";
const KEYS: &str = "arn:aws:dynamodb:*:111122223333:table/vouchers-keys";
/// The pipeline's alarms: every name is `<queue>-…`.
const ALARMS: &str = "arn:aws:cloudwatch:*:111122223333:alarm:vouchers-*";
/// For the actions that have no resource to name.
const ANY: &str = "*";

const QUEUES: &[&str] = &[QUEUE, DLQ];
const TABLES: &[&str] = &[VOUCHERS, FAILURES, QUOTAS, AUDIT, KEYS];

/// Each command and what it calls: the IAM action and the resources. A role is allowed exactly
/// the union of its commands' calls (`ROLE_COMMANDS`).
/// The calls one command makes: each IAM action with the resources it acts on.
type Calls = &'static [(&'static str, &'static [&'static str])];

const COMMANDS: &[(&str, Calls)] = &[
    (
        // Creates the queues (and, with --update, sets their attributes) and the tables; a TTL on
        // the three tables that expire rows. Audited.
        "provision",
        &[
            ("sqs:GetQueueUrl", QUEUES),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:CreateQueue", QUEUES),
            ("sqs:SetQueueAttributes", QUEUES),
            ("dynamodb:DescribeTable", TABLES),
            ("dynamodb:CreateTable", TABLES),
            ("dynamodb:UpdateTimeToLive", &[FAILURES, QUOTAS, AUDIT]),
            ("dynamodb:PutItem", &[AUDIT]),
        ],
    ),
    (
        // One DescribeAlarms of the pipeline's alarm names, a PutMetricAlarm per missing or
        // changed one. Audited.
        "provision --alarms",
        &[
            ("cloudwatch:DescribeAlarms", &[ALARMS]),
            ("cloudwatch:PutMetricAlarm", &[ALARMS]),
            ("dynamodb:PutItem", &[AUDIT]),
        ],
    ),
    (
        // Consumes the queue, dead-letters poison, stores vouchers create-only, writes failure
        // records and each voucher's progress on its index row, publishes its metrics.
        "worker",
        &[
            ("sqs:GetQueueUrl", QUEUES),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:ReceiveMessage", &[QUEUE]),
            ("sqs:DeleteMessage", &[QUEUE]),
            ("sqs:ChangeMessageVisibility", &[QUEUE]),
            ("sqs:SendMessage", &[DLQ]),
            ("dynamodb:BatchGetItem", &[VOUCHERS]),
            ("dynamodb:BatchWriteItem", &[VOUCHERS, FAILURES]),
            ("dynamodb:UpdateItem", &[QUOTAS]),
            ("cloudwatch:PutMetricData", &[ANY]),
        ],
    ),
    (
        // The consumer as a Lambda function: its event source mapping receives and deletes with
        // the function's role (the worker's); the handler dead-letters poison, stores vouchers
        // create-only and writes failure records and progress. No metrics call: EMF on stdout.
        "lambda",
        &[
            ("sqs:GetQueueUrl", &[DLQ]),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:ReceiveMessage", &[QUEUE]),
            ("sqs:DeleteMessage", &[QUEUE]),
            ("sqs:ChangeMessageVisibility", &[QUEUE]),
            ("sqs:SendMessage", &[DLQ]),
            ("dynamodb:BatchGetItem", &[VOUCHERS]),
            ("dynamodb:BatchWriteItem", &[VOUCHERS, FAILURES]),
            ("dynamodb:UpdateItem", &[QUOTAS]),
        ],
    ),
    (
        // The intake API (`serve`, or the dashboard's `--serve`): API keys, quotas, idempotency
        // keys and the voucher index, voucher states, the audit (batched), its metrics.
        "serve",
        &[
            ("sqs:GetQueueUrl", &[QUEUE]),
            ("sqs:GetQueueAttributes", &[QUEUE]),
            ("sqs:SendMessage", &[QUEUE]),
            ("dynamodb:GetItem", &[KEYS, QUOTAS, VOUCHERS]),
            ("dynamodb:PutItem", &[QUOTAS, AUDIT]),
            ("dynamodb:UpdateItem", &[QUOTAS]),
            ("dynamodb:BatchWriteItem", &[QUOTAS, AUDIT]),
            ("dynamodb:Query", &[FAILURES]),
            ("cloudwatch:PutMetricData", &[ANY]),
        ],
    ),
    (
        // `gift` and the dashboard's gift form: the producer, as the intake without API keys.
        "gift",
        &[
            ("sqs:GetQueueUrl", &[QUEUE]),
            ("sqs:GetQueueAttributes", &[QUEUE]),
            ("sqs:SendMessage", &[QUEUE]),
            ("dynamodb:GetItem", &[QUOTAS]),
            ("dynamodb:PutItem", &[QUOTAS, AUDIT]),
            ("dynamodb:UpdateItem", &[QUOTAS]),
            ("dynamodb:BatchWriteItem", &[QUOTAS, AUDIT]),
        ],
    ),
    (
        // A native move task (SQS asks the caller for receive, delete and attributes on the
        // source and send on the destination), or a copy: receive, send, delete. Audited.
        "redrive",
        &[
            ("sqs:GetQueueUrl", QUEUES),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:ListDeadLetterSourceQueues", &[DLQ]),
            ("sqs:StartMessageMoveTask", &[DLQ]),
            ("sqs:ListMessageMoveTasks", &[DLQ]),
            ("sqs:CancelMessageMoveTask", &[DLQ]),
            ("sqs:ReceiveMessage", &[DLQ]),
            ("sqs:DeleteMessage", &[DLQ]),
            ("sqs:SendMessage", &[QUEUE]),
            ("dynamodb:PutItem", &[AUDIT]),
        ],
    ),
    (
        // `dlq list|export|resend`, the DLQ browser's delete and purge: peeks hide and release,
        // a resend sends to the queue. Audited.
        "dlq",
        &[
            ("sqs:GetQueueUrl", QUEUES),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:ReceiveMessage", &[DLQ]),
            ("sqs:ChangeMessageVisibility", &[DLQ]),
            ("sqs:DeleteMessage", &[DLQ]),
            ("sqs:PurgeQueue", &[DLQ]),
            ("sqs:SendMessage", &[QUEUE]),
            ("dynamodb:PutItem", &[AUDIT]),
        ],
    ),
    (
        // `keys create|list|revoke` (a revoke reads the key and puts it back revoked). Audited.
        "keys",
        &[
            ("dynamodb:GetItem", &[KEYS]),
            ("dynamodb:PutItem", &[KEYS, AUDIT]),
            ("dynamodb:Scan", &[KEYS]),
        ],
    ),
    (
        // What every dashboard and `status` read: depths and settings, the DLQ's sources and move
        // tasks, ages, the pipeline's alarms, the failure and audit logs.
        "dashboard",
        &[
            ("sqs:GetQueueUrl", QUEUES),
            ("sqs:GetQueueAttributes", QUEUES),
            ("sqs:ListDeadLetterSourceQueues", &[DLQ]),
            ("sqs:ListMessageMoveTasks", &[DLQ]),
            ("cloudwatch:GetMetricData", &[ANY]),
            ("cloudwatch:DescribeAlarms", &[ALARMS]),
            ("dynamodb:Query", &[FAILURES, AUDIT]),
        ],
    ),
    (
        // A change refused read-only is audited, one entry at a time.
        "refusals",
        &[("dynamodb:PutItem", &[AUDIT])],
    ),
];

/// Which commands each role runs.
const ROLE_COMMANDS: &[(&str, &[&str])] = &[
    ("watcher", &["dashboard", "refusals"]),
    // The Lambda function's role in the template carries the worker's policy.
    ("worker", &["worker", "lambda"]),
    (
        "operator",
        &[
            "dashboard",
            "worker",
            "serve",
            "gift",
            "redrive",
            "dlq",
            "keys",
            "refusals",
        ],
    ),
    ("intake", &["serve"]),
    ("provision", &["provision", "provision --alarms"]),
];

/// Operations any caller may make without a policy.
const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

/// The actions that name no resource in IAM: only these may be allowed on `*`.
const NO_RESOURCE: &[&str] = &["cloudwatch:GetMetricData", "cloudwatch:PutMetricData"];

/// What only the provisioning role may do.
const PROVISIONING: &[&str] = &[
    "sqs:CreateQueue",
    "sqs:SetQueueAttributes",
    "sqs:DeleteQueue",
    "sqs:AddPermission",
    "sqs:RemovePermission",
    "dynamodb:CreateTable",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:SetAlarmState",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:EnableAlarmActions",
];

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

/// Each action a role's commands call, with the resources (from `COMMANDS` and `ROLE_COMMANDS`).
fn needed(role: &str) -> BTreeMap<String, BTreeSet<String>> {
    let commands: BTreeMap<&str, Calls> = COMMANDS.iter().copied().collect();
    let (_, runs) = ROLE_COMMANDS
        .iter()
        .find(|(r, _)| *r == role)
        .unwrap_or_else(|| panic!("{role} runs no command"));
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for command in *runs {
        let calls = commands
            .get(command)
            .unwrap_or_else(|| panic!("{role} runs {command}, which COMMANDS does not list"));
        for (action, resources) in *calls {
            let entry = out.entry((*action).to_string()).or_default();
            entry.extend(resources.iter().map(ToString::to_string));
        }
    }
    out
}

#[test]
fn every_operation_the_code_calls_is_called_by_a_command() {
    let in_code = operations_in_code();
    assert!(
        in_code.contains("sqs:ReceiveMessage"),
        "the scan finds the calls: {in_code:?}"
    );
    let called: BTreeSet<&str> = COMMANDS
        .iter()
        .flat_map(|(_, calls)| calls.iter().map(|(action, _)| *action))
        .collect();
    for op in &in_code {
        assert!(
            NEEDS_NO_PERMISSION.contains(&op.as_str()) || called.contains(op.as_str()),
            "{op} is called in crates/aws/src but no command in COMMANDS calls it"
        );
    }
    for op in called {
        assert!(
            in_code.contains(op),
            "COMMANDS says {op} is called, but crates/aws/src never calls it"
        );
    }
}

#[test]
fn each_role_is_allowed_exactly_what_its_commands_call() {
    for role in ROLES {
        let want = needed(role);
        let have = allowed(role);
        for (action, resources) in &want {
            let granted = have.get(action).cloned().unwrap_or_default();
            let missing: Vec<_> = resources.difference(&granted).collect();
            assert!(
                missing.is_empty(),
                "{role}.json does not allow {action} on {missing:?}, which its commands call"
            );
        }
        for (action, resources) in &have {
            let called = want.get(action).cloned().unwrap_or_default();
            let extra: Vec<_> = resources.difference(&called).collect();
            assert!(
                extra.is_empty(),
                "{role}.json allows {action} on {extra:?}, which none of its commands calls \
                 (least privilege)"
            );
        }
    }
}

#[test]
fn only_actions_without_a_resource_are_allowed_on_any_resource() {
    for role in ROLES {
        for (action, resources) in allowed(role) {
            if resources.contains(ANY) {
                assert!(
                    NO_RESOURCE.contains(&action.as_str()),
                    "{role}.json allows {action} on *: name the resources"
                );
            }
            assert!(
                resources
                    .iter()
                    .all(|r| r == ANY || r.contains(":111122223333:")),
                "{role}.json: {action} on {resources:?} outside the placeholder account"
            );
        }
    }
}

#[test]
fn only_the_provisioning_role_creates_or_configures_queues_tables_and_alarms() {
    for role in ROLES {
        for action in allowed(role).keys() {
            if PROVISIONING.contains(&action.as_str()) {
                assert_eq!(role, "provision", "{role}.json allows {action}");
            }
        }
    }
    let provision = allowed("provision");
    assert_eq!(
        provision["cloudwatch:PutMetricAlarm"],
        BTreeSet::from([ALARMS.to_string()]),
        "the provisioning role puts only the pipeline's alarms"
    );
}

#[test]
fn metrics_go_only_to_the_voucherdeck_namespace() {
    let mut publishers = Vec::new();
    for role in ROLES {
        for s in policy(role)["Statement"].as_array().expect("statements") {
            let actions = strings(&s["Action"]);
            if s["Effect"] != "Allow" || !actions.iter().any(|a| a == "cloudwatch:PutMetricData") {
                continue;
            }
            publishers.push(role);
            assert_eq!(
                actions,
                ["cloudwatch:PutMetricData"],
                "{role}.json: PutMetricData in a statement of its own (its condition is for it alone)"
            );
            assert_eq!(
                s["Condition"],
                serde_json::json!({"StringEquals": {"cloudwatch:namespace": "Voucherdeck"}}),
                "{role}.json: PutMetricData only to the Voucherdeck namespace"
            );
        }
    }
    assert_eq!(publishers, ["worker", "operator", "intake"]);
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
    for forbidden in ["dynamodb:PutItem", "dynamodb:DeleteItem"] {
        assert!(
            !worker.contains_key(forbidden),
            "worker.json allows {forbidden}"
        );
    }
    // Its one update is a voucher's progress, on the voucher's index row (`acc#<id>`).
    assert_eq!(
        worker["dynamodb:UpdateItem"],
        BTreeSet::from([QUOTAS.to_string()])
    );
    let update = policy("worker")["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| strings(&s["Action"]) == ["dynamodb:UpdateItem"])
        .cloned()
        .expect("a statement for UpdateItem alone");
    assert_eq!(
        update["Condition"],
        serde_json::json!({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["acc#*"]}}),
        "the worker updates only index rows"
    );
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

#[test]
fn parliament_finds_nothing_the_readme_does_not_explain() {
    let dir = root().join("assets/iam");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("read assets/iam/README.md");
    let explained = parliament::explained(&readme, "## What parliament says");
    let found = parliament::lint(&dir);
    let mut unexplained = Vec::new();
    for f in &found {
        if !explained.contains(f) {
            unexplained.push(f.to_string());
        }
    }
    assert!(
        unexplained.is_empty(),
        "parliament found what assets/iam/README.md does not explain (fix the policy, or explain \
         the finding there):\n{}",
        unexplained.join("\n")
    );
    for e in &explained {
        assert!(
            found.contains(e),
            "assets/iam/README.md explains a finding parliament no longer makes: {e}"
        );
        // Above LOW only what the provisioning role exists for: it alone manages queue policies.
        if !["LOW", "INFO"].contains(&e.severity.as_str()) {
            assert_eq!(
                (e.file.as_str(), e.issue.as_str()),
                ("provision.json", "PERMISSIONS_MANAGEMENT_ACTIONS"),
                "nothing above LOW but the provisioning role's queue policies: {e}"
            );
        }
    }
}
