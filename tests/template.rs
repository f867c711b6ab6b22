//! `voucherdeck provision --template cloudformation`: the template passes cfn-lint, and it declares
//! exactly what `provision` creates: provision on moto, then each queue's attributes, each table's
//! keys, billing and TTL, and each alarm's configuration read back from moto equal the template's
//! properties (its parameters at their defaults).

#[path = "support/moto.rs"]
mod moto;
#[path = "support/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use moto::{MotoServer, unique_names};
use procs::Env;

/// The cfn-lint version the project lints with (`scripts/test` installs it).
pub const CFN_LINT_VERSION: &str = "1.58.0";

/// `$VOUCHERDECK_CFN_LINT`, else `./.venv/bin/cfn-lint`, else `cfn-lint` on `PATH`.
fn cfn_lint() -> PathBuf {
    if let Some(p) = std::env::var_os("VOUCHERDECK_CFN_LINT") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cfn-lint");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("cfn-lint")
    }
}

fn template(env: &Env, extra: &[&str]) -> String {
    let mut args = vec!["provision", "--template", "cloudformation"];
    args.extend_from_slice(extra);
    let out = env
        .command(&args)
        .output()
        .expect("run provision --template");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn every_template_passes_cfn_lint() {
    let env = Env::new("http://127.0.0.1:9", unique_names("cfn"), "");
    let variants: [(&str, &[&str]); 4] = [
        ("plain.yaml", &[]),
        ("alarms.json", &["--alarms", "--format", "json"]),
        ("everything.yaml", &["--alarms", "--lambda"]),
        (
            "everything.json",
            &["--alarms", "--lambda", "--format", "json"],
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for (name, args) in variants {
        let path = dir.path().join(name);
        std::fs::write(&path, template(&env, args)).expect("write the template");
        files.push(path);
    }
    // A FIFO pair, with its function (whose name leaves out the queue's `.fifo`).
    let plain = unique_names("cfnf");
    let fifo = Env::new(
        "http://127.0.0.1:9",
        voucherdeck_core::backend::Names {
            queue: format!("{}.fifo", plain.queue),
            dlq: format!("{}.fifo", plain.dlq),
            ..plain
        },
        "",
    );
    let path = dir.path().join("fifo.yaml");
    std::fs::write(&path, template(&fifo, &["--alarms", "--lambda"])).expect("write");
    files.push(path);
    let version = Command::new(cfn_lint())
        .arg("--version")
        .output()
        .expect("run cfn-lint --version");
    let said = String::from_utf8_lossy(&version.stdout);
    assert!(
        said.contains(CFN_LINT_VERSION),
        "cfn-lint {CFN_LINT_VERSION} expected, found {said}"
    );
    let out = Command::new(cfn_lint())
        .args(&files)
        .output()
        .expect("run cfn-lint");
    let findings = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "cfn-lint found:\n{findings}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The template with its parameters at their defaults and no alarm topic: `Ref`s and `Fn::Sub`s
/// of parameters become values, references to resources `ref:Id` and `att:Id.Attr`.
struct Resolved {
    params: BTreeMap<String, Value>,
}

impl Resolved {
    fn new(template: &Value) -> Resolved {
        let mut params: BTreeMap<String, Value> = template["Parameters"]
            .as_object()
            .expect("parameters")
            .iter()
            .filter_map(|(k, p)| p.get("Default").map(|d| (k.clone(), d.clone())))
            .collect();
        params.insert("AWS::Region".into(), json!("us-east-1"));
        params.insert("AWS::AccountId".into(), json!("123456789012"));
        params.insert("AWS::Partition".into(), json!("aws"));
        Resolved { params }
    }

    fn value(&self, v: &Value) -> Option<Value> {
        let Value::Object(o) = v else {
            return Some(match v {
                Value::Array(a) => Value::Array(a.iter().filter_map(|v| self.value(v)).collect()),
                other => other.clone(),
            });
        };
        if let Some(Value::String(r)) = o.get("Ref") {
            return match (r.as_str(), self.params.get(r)) {
                ("AWS::NoValue", _) => None,
                (_, Some(p)) => Some(p.clone()),
                _ => Some(json!(format!("ref:{r}"))),
            };
        }
        if let Some(Value::String(s)) = o.get("Fn::Sub") {
            return Some(json!(self.sub(s)));
        }
        if let Some(Value::Array(a)) = o.get("Fn::GetAtt") {
            return Some(json!(format!("att:{}.{}", a[0].as_str()?, a[1].as_str()?)));
        }
        if let Some(Value::Array(a)) = o.get("Fn::If") {
            // The only condition: an alarm topic is given; at the defaults it is not.
            assert_eq!(a[0], "HasAlarmTopic");
            return self.value(&a[2]);
        }
        Some(Value::Object(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), self.value(v)?)))
                .collect(),
        ))
    }

    fn sub(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closing brace") + start;
            let name = &rest[start + 2..end];
            match self.params.get(name) {
                Some(Value::String(v)) => out.push_str(v),
                Some(v) => out.push_str(&v.to_string()),
                None => {
                    out.push_str("att:");
                    out.push_str(name);
                }
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

macro_rules! client {
    ($sdk:ident, $endpoint:expr) => {{
        let conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .http_client(voucherdeck_aws::config::https_client())
            .region($sdk::config::Region::new("us-east-1"))
            .endpoint_url($endpoint)
            .credentials_provider($sdk::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        $sdk::Client::from_conf(conf)
    }};
}

/// A number or a numeric string, as text (SQS answers attributes as strings).
fn num(v: &Value) -> String {
    v.as_str()
        .map_or_else(|| v.to_string(), ToString::to_string)
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

#[test]
fn the_template_declares_what_provision_creates_on_moto() {
    declares_what_provision_creates(unique_names("tpl"));
}

#[test]
fn a_fifo_template_declares_what_provision_creates_on_moto() {
    let plain = unique_names("tplf");
    declares_what_provision_creates(voucherdeck_core::backend::Names {
        queue: format!("{}.fifo", plain.queue),
        dlq: format!("{}.fifo", plain.dlq),
        ..plain
    });
}

fn declares_what_provision_creates(names: voucherdeck_core::backend::Names) {
    let moto = MotoServer::start();
    let env = Env::new(&moto.endpoint(), names, "visibility_timeout_seconds = 45\n");
    let made = env
        .command(&["provision", "--alarms", "--json"])
        .output()
        .expect("provision");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let report: Value = serde_json::from_slice(&made.stdout).expect("provision --json");
    let t: Value =
        serde_json::from_str(&template(&env, &["--alarms", "--format", "json"])).expect("JSON");
    let r = Resolved::new(&t);
    let props = |res: &Value| r.value(&res["Properties"]).expect("properties");

    // The same resources, by name.
    let mut declared: Vec<String> = Vec::new();
    for (kind, name) in [
        ("AWS::SQS::Queue", "QueueName"),
        ("AWS::DynamoDB::Table", "TableName"),
        ("AWS::CloudWatch::Alarm", "AlarmName"),
    ] {
        declared.extend(
            of_type(&t, kind)
                .iter()
                .map(|(_, res)| props(res)[name].as_str().expect("name").to_string()),
        );
    }
    declared.sort();
    let mut created: Vec<String> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect();
    created.sort();
    assert_eq!(declared, created);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let endpoint = moto.endpoint();
    rt.block_on(async {
        queues_match(&client!(aws_sdk_sqs, &endpoint), &t, &r).await;
        tables_match(&client!(aws_sdk_dynamodb, &endpoint), &t, &r).await;
        alarms_match(&client!(aws_sdk_cloudwatch, &endpoint), &t, &r).await;
    });
}

/// Each queue's attributes on moto are the template's properties.
async fn queues_match(sqs: &aws_sdk_sqs::Client, doc: &Value, resolved: &Resolved) {
    let props = |res: &Value| resolved.value(&res["Properties"]).expect("properties");
    let mut arns = BTreeMap::new();
    let mut queues = BTreeMap::new();
    for (id, res) in of_type(doc, "AWS::SQS::Queue") {
        let p = props(res);
        let name = p["QueueName"].as_str().expect("name");
        let url = sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .expect("queue url")
            .queue_url
            .expect("url");
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("attributes")
            .attributes
            .expect("attributes");
        let attr = |n: &str| {
            attrs
                .get(&aws_sdk_sqs::types::QueueAttributeName::from(n))
                .cloned()
        };
        arns.insert(format!("att:{id}.Arn"), attr("QueueArn").expect("arn"));
        for prop in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "MaximumMessageSize",
        ] {
            assert_eq!(Some(num(&p[prop])), attr(prop), "{name} {prop}");
        }
        fifo_settings_match(name, &p, &attr);
        queues.insert(id.clone(), (p, attr("RedrivePolicy")));
    }
    assert_eq!(
        num(&queues["Queue"].0["VisibilityTimeout"]),
        "45",
        "the settings' visibility"
    );
    for (id, (p, redrive)) in &queues {
        match (&p.get("RedrivePolicy"), redrive) {
            (Some(want), Some(have)) => {
                let have: Value = serde_json::from_str(have).expect("redrive JSON");
                assert_eq!(
                    num(&want["maxReceiveCount"]),
                    num(&have["maxReceiveCount"]),
                    "{id}"
                );
                let target = want["deadLetterTargetArn"].as_str().expect("target");
                assert_eq!(
                    arns.get(target),
                    have["deadLetterTargetArn"]
                        .as_str()
                        .map(ToString::to_string)
                        .as_ref(),
                    "{id}"
                );
            }
            (None, None) => {}
            other => panic!("{id}: redrive policy {other:?}"),
        }
    }
}

/// A FIFO queue's settings on moto, as provision set them and the template declares them (a
/// standard queue: neither says any).
fn fifo_settings_match(name: &str, p: &Value, attr: &dyn Fn(&str) -> Option<String>) {
    for prop in [
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    ] {
        let want = p.get(prop).map(|v| {
            v.as_str()
                .map_or_else(|| v.to_string(), ToString::to_string)
        });
        let have = attr(prop).filter(|v| v != "false");
        assert_eq!(want, have, "{name} {prop}");
    }
}

/// Each table's keys, billing and TTL on moto are the template's.
async fn tables_match(dynamo: &aws_sdk_dynamodb::Client, doc: &Value, resolved: &Resolved) {
    let props = |res: &Value| resolved.value(&res["Properties"]).expect("properties");
    for (_, res) in of_type(doc, "AWS::DynamoDB::Table") {
        let p = props(res);
        let name = p["TableName"].as_str().expect("name");
        let table = dynamo
            .describe_table()
            .table_name(name)
            .send()
            .await
            .expect("describe table")
            .table
            .expect("table");
        let keys: Vec<Value> = table
            .key_schema()
            .iter()
            .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
            .collect();
        assert_eq!(Value::Array(keys), p["KeySchema"], "{name}");
        let mut defs: Vec<Value> = table.attribute_definitions().iter().map(|d| json!({"AttributeName": d.attribute_name(), "AttributeType": d.attribute_type().as_str()})).collect();
        defs.sort_by_key(ToString::to_string);
        let mut want = p["AttributeDefinitions"].as_array().expect("defs").clone();
        want.sort_by_key(ToString::to_string);
        assert_eq!(defs, want, "{name}");
        let billing = table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str().to_string());
        assert_eq!(billing.as_deref(), p["BillingMode"].as_str(), "{name}");
        let ttl = dynamo
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .expect("ttl")
            .time_to_live_description;
        let enabled = ttl
            .as_ref()
            .filter(|d| {
                d.time_to_live_status()
                    .is_some_and(|s| s.as_str() == "ENABLED")
            })
            .and_then(|d| d.attribute_name());
        assert_eq!(
            enabled,
            p["TimeToLiveSpecification"]["AttributeName"].as_str(),
            "{name} TTL"
        );
    }
}

/// Each alarm's configuration on moto is the template's.
async fn alarms_match(cw: &aws_sdk_cloudwatch::Client, doc: &Value, resolved: &Resolved) {
    let props = |res: &Value| resolved.value(&res["Properties"]).expect("properties");
    let alarms = of_type(doc, "AWS::CloudWatch::Alarm");
    assert_eq!(alarms.len(), 9);
    for (_, res) in alarms {
        let p = props(res);
        let name = p["AlarmName"].as_str().expect("name");
        let got = cw
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .expect("describe alarms");
        let a = got
            .metric_alarms()
            .first()
            .unwrap_or_else(|| panic!("{name} exists"));
        assert_eq!(
            a.alarm_description(),
            p["AlarmDescription"].as_str(),
            "{name}"
        );
        assert_eq!(a.threshold(), p["Threshold"].as_f64(), "{name}");
        assert_eq!(
            a.comparison_operator()
                .map(aws_sdk_cloudwatch::types::ComparisonOperator::as_str),
            p["ComparisonOperator"].as_str(),
            "{name}"
        );
        assert_eq!(
            a.evaluation_periods().map(i64::from),
            p["EvaluationPeriods"].as_i64(),
            "{name}"
        );
        assert_eq!(
            a.datapoints_to_alarm().map(i64::from),
            p["DatapointsToAlarm"].as_i64(),
            "{name}"
        );
        assert_eq!(
            a.treat_missing_data(),
            p["TreatMissingData"].as_str(),
            "{name}"
        );
        assert_eq!(a.actions_enabled(), p["ActionsEnabled"].as_bool(), "{name}");
        assert!(
            a.alarm_actions().is_empty() && p.get("AlarmActions").is_none(),
            "{name}"
        );
        if let Some(queries) = p.get("Metrics") {
            assert_eq!(&queries_of(a), queries, "{name}");
        } else {
            assert_eq!(a.namespace(), p["Namespace"].as_str(), "{name}");
            assert_eq!(a.metric_name(), p["MetricName"].as_str(), "{name}");
            assert_eq!(
                a.statistic()
                    .map(aws_sdk_cloudwatch::types::Statistic::as_str),
                p["Statistic"].as_str(),
                "{name}"
            );
            assert_eq!(a.period().map(i64::from), p["Period"].as_i64(), "{name}");
            assert_eq!(dimensions(a.dimensions()), p["Dimensions"], "{name}");
        }
    }
}

fn dimensions(d: &[aws_sdk_cloudwatch::types::Dimension]) -> Value {
    d.iter()
        .map(|d| json!({"Name": d.name(), "Value": d.value()}))
        .collect()
}

/// An alarm's metric math as the template writes it.
fn queries_of(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Value {
    a
                .metrics()
                .iter()
                .map(|q| {
                    let mut v = json!({"Id": q.id(), "ReturnData": q.return_data()});
                    if let Some(e) = q.expression() {
                        v["Expression"] = json!(e);
                        v["Label"] = json!(q.label());
                    }
                    if let Some(s) = q.metric_stat() {
                        let m = s.metric().expect("metric");
                        v["MetricStat"] = json!({
                            "Metric": {"Namespace": m.namespace(), "MetricName": m.metric_name(), "Dimensions": dimensions(m.dimensions())},
                            "Period": s.period(),
                            "Stat": s.stat(),
                        });
                    }
                    v
                })
                .collect()
}

/// A YAML file of `assets/deploy/` as JSON, read by PyYAML from the linter's environment
/// (CloudFormation's short tags, `!Ref X`, read as `{"Ref": X}`).
fn yaml_documents(file: &str) -> Vec<Value> {
    const READ: &str = r#"
import json, sys, yaml
def tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}
yaml.SafeLoader.add_multi_constructor("!", tag)
with open(sys.argv[1]) as f:
    print(json.dumps([d for d in yaml.safe_load_all(f) if d is not None]))
"#;
    let python = cfn_lint().with_file_name("python3");
    let python = if python.exists() {
        python
    } else {
        PathBuf::from("python3")
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/deploy")
        .join(file);
    let out = Command::new(&python)
        .arg("-c")
        .arg(READ)
        .arg(&path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{file} is not YAML: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_deploy_examples_are_valid_and_name_the_stack() {
    let env = Env::new("http://127.0.0.1:9", unique_names("dep"), "");
    // The stack's own defaults, as a template made with the default names states them.
    let defaults = Command::new(env!("CARGO_BIN_EXE_voucherdeck"))
        .args([
            "--embedded",
            "provision",
            "--template",
            "cloudformation",
            "--format",
            "json",
        ])
        .env("HOME", env.home.path())
        .env("XDG_CONFIG_HOME", env.home.path().join(".config"))
        .output()
        .expect("provision --template");
    assert!(
        defaults.status.success(),
        "{}",
        String::from_utf8_lossy(&defaults.stderr)
    );
    let stack: Value = serde_json::from_slice(&defaults.stdout).expect("JSON");
    let default = |p: &str| stack["Parameters"][p]["Default"].clone();
    let visibility = default("VisibilityTimeout").as_u64().expect("visibility");

    let ecs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/deploy/ecs-workers.yaml");
    let lint = Command::new(cfn_lint())
        .arg(&ecs)
        .output()
        .expect("run cfn-lint");
    assert!(
        lint.status.success(),
        "cfn-lint: {}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let ecs = &yaml_documents("ecs-workers.yaml")[0];
    for p in ["QueueName", "DlqName", "TableName"] {
        assert_eq!(
            ecs["Parameters"][p]["Default"],
            default(p),
            "ecs-workers.yaml {p}"
        );
    }
    let container = &ecs["Resources"]["WorkerTask"]["Properties"]["ContainerDefinitions"][0];
    assert!(
        container["StopTimeout"].as_u64() >= Some(visibility),
        "StopTimeout"
    );

    let k8s = yaml_documents("keda-workers.yaml");
    let kind = |k: &str| {
        k8s.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("a {k}"))
    };
    let (deployment, scaled) = (kind("Deployment"), kind("ScaledObject"));
    assert_eq!(
        scaled["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert!(
        pod["terminationGracePeriodSeconds"].as_u64() > Some(visibility),
        "grace period"
    );
    let envs: BTreeMap<&str, &Value> = pod["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| (e["name"].as_str().expect("name"), &e["value"]))
        .collect();
    assert_eq!(envs["VOUCHERDECK_QUEUE"], &default("QueueName"));
    assert_eq!(envs["VOUCHERDECK_DLQ"], &default("DlqName"));
    assert_eq!(envs["VOUCHERDECK_TABLE"], &default("TableName"));
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "aws-sqs-queue");
    let url = trigger["metadata"]["queueURL"].as_str().expect("queueURL");
    assert!(
        url.ends_with(&format!(
            "/{}",
            default("QueueName").as_str().expect("name")
        )),
        "{url}"
    );
}

#[test]
fn the_function_acts_with_the_workers_rights_and_reports_batch_item_failures() {
    let env = Env::new("http://127.0.0.1:9", unique_names("fn"), "");
    let t: Value =
        serde_json::from_str(&template(&env, &["--lambda", "--format", "json"])).expect("JSON");
    let res = &t["Resources"];
    let policy = |role: &str| res[role]["Properties"]["Policies"][0]["PolicyDocument"].clone();
    assert_eq!(policy("ConsumerFunctionRole"), policy("WorkerRole"));
    let dlq_policy = res["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"].to_string();
    assert!(
        dlq_policy.contains("${ConsumerFunctionRole.Arn}"),
        "{dlq_policy}"
    );
    let mapping = &res["ConsumerEventSourceMapping"]["Properties"];
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        mapping["EventSourceArn"],
        json!({"Fn::GetAtt": ["Queue", "Arn"]})
    );
    let function = &res["ConsumerFunction"]["Properties"];
    assert_eq!(
        (&function["Runtime"], &function["Handler"]),
        (&json!("provided.al2023"), &json!("bootstrap"))
    );
    let defaults = |p: &str| t["Parameters"][p]["Default"].as_u64().expect(p);
    // AWS advises a visibility timeout of at least six times the function's timeout.
    assert!(defaults("VisibilityTimeout") >= 6 * defaults("FunctionTimeout"));
    assert_eq!(
        res["ConsumerLogGroup"]["Properties"]["RetentionInDays"],
        json!({"Ref": "LogRetentionDays"})
    );
}
