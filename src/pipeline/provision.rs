//! Provision: create the queue, its DLQ (with the redrive policy), and the tables, idempotently.

use serde::Serialize;

use super::services::Pipeline;
use crate::backend::BackendKind;
use crate::domain::AuditAction;
use crate::ports::{BackendError, QueueSpec, RedrivePolicy, Result};

/// One resource and whether this run created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provisioned {
    pub kind: &'static str,
    pub name: String,
    pub created: bool,
    pub detail: String,
}

/// Everything provision saw or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionReport {
    pub items: Vec<Provisioned>,
}

impl Pipeline {
    /// Makes sure every resource exists; safe to run again. Audited.
    pub async fn provision(&self) -> Result<ProvisionReport> {
        let target = self.backend().names.queue.clone();
        self.guard(AuditAction::Provision, &target).await?;
        let result = self.provision_all().await;
        self.audit_result(AuditAction::Provision, &target, &result, |r| {
            let made = r.items.iter().filter(|i| i.created).count();
            (
                made as u64,
                format!("{made} of {} resources created", r.items.len()),
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
        self.provision_all().await
    }

    async fn provision_all(&self) -> Result<ProvisionReport> {
        let names = &self.backend().names;
        let cfg = self.config();
        let queues = &self.backend().queue;
        let mut items = Vec::new();
        let (dlq, created) = queues
            .ensure(&QueueSpec {
                name: names.dlq.clone(),
                visibility_timeout: cfg.visibility_timeout,
                redrive: None,
            })
            .await?;
        items.push(Provisioned {
            kind: "dlq",
            name: dlq.name.clone(),
            created,
            detail: dlq.arn.clone(),
        });
        let policy = RedrivePolicy {
            dead_letter_arn: dlq.arn.clone(),
            max_receive_count: cfg.max_receive_count,
        };
        let (queue, created) = queues
            .ensure(&QueueSpec {
                name: names.queue.clone(),
                visibility_timeout: cfg.visibility_timeout,
                redrive: Some(policy),
            })
            .await?;
        items.push(Provisioned {
            kind: "queue",
            name: queue.name.clone(),
            created,
            detail: format!(
                "visibility {} s, to {} after {} receives",
                cfg.visibility_timeout.as_secs(),
                dlq.name,
                cfg.max_receive_count
            ),
        });
        for (name, created) in self.backend().store.ensure_tables().await? {
            items.push(Provisioned {
                kind: "table",
                name,
                created,
                detail: "on-demand capacity".into(),
            });
        }
        let (name, created) = self.backend().failures.ensure_table().await?;
        items.push(Provisioned {
            kind: "table",
            name,
            created,
            detail: "failure log, 14-day TTL".into(),
        });
        let (name, created) = self.backend().audit.ensure_table().await?;
        items.push(Provisioned {
            kind: "table",
            name,
            created,
            detail: "operator audit log, 1-year TTL".into(),
        });
        let (name, created) = self.backend().keys.ensure_table().await?;
        items.push(Provisioned {
            kind: "table",
            name,
            created,
            detail: "API keys (hashes only)".into(),
        });
        Ok(ProvisionReport { items })
    }
}
