//! Alarms: create or update the pipeline's alarms (idempotent: each reported as created, updated or
//! unchanged), and read them back with their state. CloudWatch on AWS; the embedded engine
//! evaluates the same rules in process. An endpoint without CloudWatch degrades: no alarms, said so.

use serde::Serialize;

use super::provision::{ProvisionReport, Provisioned};
use super::services::Pipeline;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::domain::limits::check_sns_topic_arn;
use voucherdeck_core::domain::{AlarmRule, AlarmState, AlarmStatus, AuditAction, alarm_rules};
use voucherdeck_core::ports::{AlarmRecord, AlarmSpec, BackendError, Result};

/// What the dashboard and `status` say when the endpoint has no CloudWatch.
pub const NO_CLOUDWATCH_ALARMS: &str = "no alarms: the endpoint has no CloudWatch";

/// The pipeline's alarms as they stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmReport {
    /// `cloudwatch`, or `embedded` (evaluated in process).
    pub source: &'static str,
    /// In rule order; only those that exist.
    pub alarms: Vec<AlarmStatus>,
    /// Rules without an alarm (`voucherdeck provision --alarms` creates them).
    pub missing: Vec<String>,
    /// Alarms whose configuration differs from the settings (a re-run updates them).
    pub outdated: Vec<String>,
    /// Why there are no alarms at all, when the endpoint cannot have them.
    pub unavailable: Option<String>,
}

impl AlarmReport {
    /// The alarms in ALARM.
    pub fn firing(&self) -> impl Iterator<Item = &AlarmStatus> {
        self.alarms.iter().filter(|a| a.state == AlarmState::Alarm)
    }
}

impl Pipeline {
    /// voucherdeck's alarm rules for this pipeline, with the configured thresholds.
    pub fn alarm_rules(&self) -> Vec<AlarmRule> {
        alarm_rules(&self.backend().names.queue, &self.config().alarms)
    }

    fn alarm_specs(&self, actions: &[String]) -> Vec<AlarmSpec> {
        let names = &self.backend().names;
        self.alarm_rules()
            .into_iter()
            .map(|rule| AlarmSpec {
                rule,
                queue: names.queue.clone(),
                dlq: names.dlq.clone(),
                actions: actions.to_vec(),
            })
            .collect()
    }

    /// Creates the alarms that are missing and updates those whose rule, threshold or
    /// notifications changed; leaves the rest alone, so a re-run changes nothing. Audited.
    pub async fn provision_alarms(&self, sns_topic: Option<&str>) -> Result<ProvisionReport> {
        let target = format!("{} alarms", self.backend().names.queue);
        self.guard(AuditAction::Provision, &target).await?;
        let result = match sns_topic.map(check_sns_topic_arn) {
            Some(Err(rule)) => Err(BackendError::Invalid(format!("--sns-topic: {rule}"))),
            _ => self.put_alarms(sns_topic).await,
        };
        self.audit_result(AuditAction::Provision, &target, &result, |r| {
            let changed = r.items.iter().filter(|i| i.created || i.updated).count();
            (
                changed as u64,
                format!("{changed} of {} alarms created or updated", r.items.len()),
            )
        })
        .await;
        result
    }

    /// Puts every alarm that is missing or differs; one `DescribeAlarms` first.
    pub(super) async fn put_alarms(&self, sns_topic: Option<&str>) -> Result<ProvisionReport> {
        let actions: Vec<String> = sns_topic.map(ToString::to_string).into_iter().collect();
        let specs = self.alarm_specs(&actions);
        let names: Vec<String> = specs.iter().map(|s| s.rule.name.clone()).collect();
        let existing = self.backend().alarms.describe(&names).await?;
        let mut items = Vec::new();
        for spec in &specs {
            let wanted = spec.config();
            let found = existing.iter().find(|r| r.status.name == spec.rule.name);
            let changes = found.map(|r| r.config.differences(&wanted));
            if changes.as_ref().is_none_or(|c| !c.is_empty()) {
                self.backend().alarms.put(spec).await?;
            }
            items.push(Provisioned {
                kind: "alarm",
                name: spec.rule.name.clone(),
                created: found.is_none(),
                differences: Vec::new(),
                updated: changes.as_ref().is_some_and(|c| !c.is_empty()),
                detail: match changes {
                    Some(c) if !c.is_empty() => format!("updated: {}", c.join(", ")),
                    _ => wanted.description,
                },
            });
        }
        Ok(ProvisionReport { items })
    }

    /// The pipeline's alarms with their state: one `DescribeAlarms`. An endpoint without CloudWatch
    /// gives a report that says so rather than an error.
    pub async fn alarms(&self) -> Result<AlarmReport> {
        let source = match self.backend().info.kind {
            BackendKind::Embedded => "embedded",
            BackendKind::Aws => "cloudwatch",
        };
        let specs = self.alarm_specs(&[]);
        let names: Vec<String> = specs.iter().map(|s| s.rule.name.clone()).collect();
        let records = match self.backend().alarms.describe(&names).await {
            Ok(r) => r,
            Err(BackendError::Unsupported(why)) => {
                tracing::debug!(%why, "no CloudWatch alarms here");
                return Ok(AlarmReport {
                    source,
                    alarms: Vec::new(),
                    missing: Vec::new(),
                    outdated: Vec::new(),
                    unavailable: Some(NO_CLOUDWATCH_ALARMS.into()),
                });
            }
            Err(e) => return Err(e),
        };
        Ok(report(source, &specs, &records))
    }
}

/// The report of what was read, in rule order.
fn report(source: &'static str, specs: &[AlarmSpec], records: &[AlarmRecord]) -> AlarmReport {
    let mut out = AlarmReport {
        source,
        alarms: Vec::new(),
        missing: Vec::new(),
        outdated: Vec::new(),
        unavailable: None,
    };
    for spec in specs {
        match records.iter().find(|r| r.status.name == spec.rule.name) {
            Some(r) => {
                let mut wanted = spec.config();
                // Notifications are the operator's choice at provision time, not a setting.
                wanted.alarm_actions.clone_from(&r.config.alarm_actions);
                wanted.ok_actions.clone_from(&r.config.ok_actions);
                if !r.config.differences(&wanted).is_empty() {
                    out.outdated.push(spec.rule.name.clone());
                }
                out.alarms.push(r.status.clone());
            }
            None => out.missing.push(spec.rule.name.clone()),
        }
    }
    out
}
