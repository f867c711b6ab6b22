//! Provision: create the queue, its DLQ (with the redrive policy) and the tables where missing.
//! An existing queue is shared by every machine: its settings are compared with this one's and the
//! differences reported, and changed only when asked (`update`).

use serde::Serialize;

use super::services::Pipeline;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::domain::limits::{
    DLQ_RETENTION, MESSAGE_SIZE_MAX, SOURCE_MESSAGE_SIZE, SOURCE_RETENTION,
};
use voucherdeck_core::domain::tables::{AUDIT_LOG_PURPOSE, FAILURE_LOG_PURPOSE};
use voucherdeck_core::domain::{AuditAction, whole_duration};
use voucherdeck_core::ports::{
    BackendError, QueueRef, QueueSettings, QueueSpec, RedrivePolicy, Result, SettingDiff,
};

/// One resource and whether this run created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provisioned {
    pub kind: &'static str,
    pub name: String,
    pub created: bool,
    pub detail: String,
    /// Settings of an existing queue that differ from this configuration.
    pub differences: Vec<SettingDiff>,
    /// Whether this run changed it: a queue's differing settings (only when asked to), an alarm
    /// whose rule, threshold or notifications changed.
    pub updated: bool,
}

impl Provisioned {
    fn table(name: String, created: bool, detail: &str) -> Self {
        Provisioned {
            kind: "table",
            name,
            created,
            detail: detail.to_string(),
            differences: Vec::new(),
            updated: false,
        }
    }
}

/// Everything provision saw or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionReport {
    pub items: Vec<Provisioned>,
}

impl ProvisionReport {
    /// Whether an existing queue differs from this configuration and was left as it is.
    pub fn has_unapplied_differences(&self) -> bool {
        self.items
            .iter()
            .any(|i| !i.differences.is_empty() && !i.updated)
    }
}

impl Pipeline {
    /// Makes sure every resource exists; safe to run again. Existing queues are compared, not
    /// changed. Audited.
    pub async fn provision(&self) -> Result<ProvisionReport> {
        self.provision_with(false).await
    }

    /// Like [`Pipeline::provision`]; with `update`, existing queues are brought to this
    /// configuration (their differences are still reported). Audited.
    pub async fn provision_with(&self, update: bool) -> Result<ProvisionReport> {
        let target = self.backend().names.queue.clone();
        self.guard(AuditAction::Provision, &target).await?;
        let result = self.provision_all(update).await;
        self.audit_result(AuditAction::Provision, &target, &result, |r| {
            let made = r.items.iter().filter(|i| i.created).count();
            let changed = r.items.iter().filter(|i| i.updated).count();
            (
                made as u64,
                format!(
                    "{made} of {} resources created, {changed} queue(s) updated",
                    r.items.len()
                ),
            )
        })
        .await;
        result
    }

    /// Sets up a fresh embedded engine at start: part of starting the process (it has nothing to
    /// show otherwise), not an operator action, so neither refused read-only nor audited.
    pub async fn prepare_embedded(&self) -> Result<ProvisionReport> {
        if self.backend().info.kind != BackendKind::Embedded {
            return Err(BackendError::Invalid(
                "only the embedded engine is prepared in-process; use provision".into(),
            ));
        }
        let mut report = self.provision_all(false).await?;
        // The embedded engine evaluates the same alarm rules in process.
        report.items.extend(self.put_alarms(None).await?.items);
        Ok(report)
    }

    /// The specs of the DLQ and the source queue as this configuration wants them: the DLQ keeps
    /// messages longest (14 days, longer than the source's 4) and accepts the largest messages, so
    /// every source message fits with its diagnosis.
    pub(crate) fn queue_specs(&self, dlq_arn: &str) -> (QueueSpec, QueueSpec) {
        let names = &self.backend().names;
        let cfg = self.config();
        let dlq = QueueSpec {
            retention: Some(DLQ_RETENTION),
            max_message_size: Some(MESSAGE_SIZE_MAX),
            ..QueueSpec::new(&names.dlq, cfg.visibility_timeout)
        };
        let queue = QueueSpec {
            redrive: Some(RedrivePolicy {
                dead_letter_arn: dlq_arn.to_string(),
                max_receive_count: cfg.max_receive_count,
            }),
            retention: Some(SOURCE_RETENTION),
            max_message_size: Some(SOURCE_MESSAGE_SIZE),
            ..QueueSpec::new(&names.queue, cfg.visibility_timeout)
        };
        (dlq, queue)
    }

    async fn provision_all(&self, update: bool) -> Result<ProvisionReport> {
        let (dlq_spec, _) = self.queue_specs("");
        let (dlq, dlq_item) = self.provision_queue("dlq", &dlq_spec, update).await?;
        let (_, queue_spec) = self.queue_specs(&dlq.arn);
        let (_, queue_item) = self.provision_queue("queue", &queue_spec, update).await?;
        let mut items = vec![dlq_item, queue_item];
        for (name, created) in self.backend().store.ensure_tables().await? {
            items.push(Provisioned::table(name, created, "on-demand capacity"));
        }
        let (name, created) = self.backend().failures.ensure_table().await?;
        items.push(Provisioned::table(name, created, FAILURE_LOG_PURPOSE));
        let (name, created) = self.backend().audit.ensure_table().await?;
        items.push(Provisioned::table(name, created, AUDIT_LOG_PURPOSE));
        let (name, created) = self.backend().keys.ensure_table().await?;
        items.push(Provisioned::table(name, created, "API keys (hashes only)"));
        Ok(ProvisionReport { items })
    }

    /// Creates a queue as `spec` says, or compares an existing one with it (and updates it when
    /// asked).
    async fn provision_queue(
        &self,
        kind: &'static str,
        spec: &QueueSpec,
        update: bool,
    ) -> Result<(QueueRef, Provisioned)> {
        let queues = &self.backend().queue;
        let (queue, created) = queues.ensure(spec).await?;
        let mut now = QueueSettings::from(spec);
        let mut differences = Vec::new();
        if !created {
            let current = queues.settings(&queue).await?;
            differences = spec.differences(&current);
            now = current;
        }
        let updated = update && !differences.is_empty();
        if updated {
            queues.update(&queue, spec).await?;
            now = QueueSettings::from(spec);
        }
        let item = Provisioned {
            kind,
            name: queue.name.clone(),
            created,
            detail: describe(&now),
            differences,
            updated,
        };
        Ok((queue, item))
    }
}

/// A queue's settings in words: visibility, retention, size, and where failures go.
fn describe(q: &QueueSettings) -> String {
    let mut parts = Vec::new();
    if let Some(v) = q.visibility_timeout {
        parts.push(format!("visibility {}", whole_duration(v)));
    }
    if let Some(r) = q.retention {
        parts.push(format!("retention {}", whole_duration(r)));
    }
    if let Some(size) = q.max_message_size {
        parts.push(format!("messages up to {}", bytes(size)));
    }
    if let Some(p) = &q.redrive {
        let dlq = p.dead_letter_arn.rsplit(':').next().unwrap_or_default();
        parts.push(format!("to {dlq} after {} receives", p.max_receive_count));
    }
    parts.join(", ")
}

/// A size in the largest whole binary unit: `1 MiB`, `1008 KiB`, `1000 bytes`.
fn bytes(n: usize) -> String {
    match n {
        n if n > 0 && n % (1024 * 1024) == 0 => format!("{} MiB", n / (1024 * 1024)),
        n if n > 0 && n % 1024 == 0 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}
