//! `provision --template cloudformation`: the stack as a CloudFormation template, declaring what
//! `provision` creates (the queue and its DLQ, the tables, with `--alarms` the alarms) from the
//! very specs `provision` creates them by, plus the IAM roles and queue policies of `assets/iam/`
//! and, with `--lambda`, the consumer as a Lambda function with its event source mapping. Names,
//! queue settings and thresholds are parameters whose defaults are this configuration's.
//!
//! - `cfn`: intrinsic functions, and names written as `${Param}` tokens;
//! - `storage`: queues and tables; `alarms`: the alarms; `iam`: roles and queue policies;
//!   `function`: the Lambda function, its role, log group and event source mapping;
//! - `parameters`: the template's parameters and outputs; `options`: what a template declares.

mod alarms;
mod cfn;
mod function;
mod iam;
mod options;
mod parameters;
mod storage;

use serde_json::{Map, Value, json};

use crate::services::Pipeline;
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::alarm_rules;

pub use iam::PolicyFile;
pub use options::TemplateOptions;

/// The names as tokens of the template's parameters; a table named after the base table (the
/// default derivation) follows the `TableName` parameter, another keeps its configured name.
fn token_names(names: &Names) -> Names {
    let base = &names.table;
    let derived = |name: &str, suffix: &str| {
        if name == format!("{base}{suffix}") {
            format!("${{TableName}}{suffix}")
        } else {
            name.to_string()
        }
    };
    Names {
        queue: cfn::token("QueueName"),
        dlq: cfn::token("DlqName"),
        table: cfn::token("TableName"),
        failure_table: derived(&names.failure_table, "-failures"),
        quota_table: derived(&names.quota_table, "-quotas"),
        audit_table: derived(&names.audit_table, "-audit"),
        key_table: derived(&names.key_table, "-keys"),
    }
}

impl Pipeline {
    /// The stack as a CloudFormation template (JSON; every value YAML can carry as well).
    pub fn stack_template(&self, opts: &TemplateOptions) -> Value {
        let names = &self.backend().names;
        let tokens = token_names(names);
        let mut resources = Map::new();
        let (dlq, _) = self.queue_specs("");
        let (_, queue) = self.queue_specs("dlq");
        let rename = |mut spec: voucherdeck_core::ports::QueueSpec, name: &str| {
            spec.name = name.to_string();
            spec
        };
        resources.insert(
            storage::DLQ.into(),
            storage::queue(&rename(dlq, &tokens.dlq)),
        );
        resources.insert(
            storage::QUEUE.into(),
            storage::queue(&rename(queue, &tokens.queue)),
        );
        for (def, id) in tokens.tables().iter().zip(storage::TABLE_IDS) {
            resources.insert(id.into(), storage::table(def));
        }
        let rules = alarm_rules(&tokens.queue, &self.config().alarms);
        if opts.alarms {
            for rule in &rules {
                let alarm = alarms::alarm(rule, &tokens.queue, &tokens.dlq);
                resources.insert(alarms::alarm_id(rule.kind), alarm);
            }
        }
        let roles: Vec<String> = opts
            .policies
            .iter()
            .filter_map(|p| iam::role_id(&p.stem))
            .collect();
        let example = Names::default();
        for p in &opts.policies {
            let doc = iam::localise(&p.document, &example, &roles);
            match (iam::role_id(&p.stem), p.stem.as_str()) {
                (Some(id), stem) => {
                    if opts.lambda && stem == "worker" {
                        for (id, r) in function::resources(&doc) {
                            resources.insert(id, r);
                        }
                    }
                    resources.insert(id, iam::role(stem, &doc));
                }
                (None, "queue-policy") => {
                    resources.insert(
                        "QueuePolicy".into(),
                        iam::queue_policy(storage::QUEUE, &doc),
                    );
                }
                (None, _) => {
                    // The function's role sends poison to the DLQ as the worker's does.
                    let doc = if opts.lambda {
                        iam::also_as(doc, "WorkerRole", function::FUNCTION_ROLE)
                    } else {
                        doc
                    };
                    resources.insert(
                        "DeadLetterQueuePolicy".into(),
                        iam::queue_policy(storage::DLQ, &doc),
                    );
                }
            }
        }
        let mut template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "voucherdeck: the voucher queue, its DLQ, tables, roles (and alarms, a Lambda consumer), as `voucherdeck provision --template cloudformation` declares them",
            "Parameters": parameters::parameters(self, opts, &rules),
            "Resources": Value::Object(resources),
            "Outputs": parameters::outputs(opts, &roles),
        });
        if opts.alarms {
            template["Conditions"] = json!({
                "HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]},
            });
        }
        template
    }
}
