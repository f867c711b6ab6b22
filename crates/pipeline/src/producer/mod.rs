//! The producer: validate, take the sender's limits, record idempotency keys, and queue the
//! accepted vouchers through coalesced `SendMessageBatch` calls (one group per sender, so one
//! sender's flood does not hold back the others).

mod admit;
pub(crate) mod error;
mod key_turns;
pub(crate) mod quota;
mod send;
pub(crate) mod state;

use std::net::IpAddr;

use serde::Serialize;
use uuid::Uuid;

use super::services::Pipeline;
pub use error::GiftError;
use voucherdeck_core::domain::{
    ApiKeyRecord, AuditAction, AuditEntry, AuditOutcome, GiftRequest, Timestamp,
};
use voucherdeck_core::ports::{Accepted, BackendError};

/// Who gifts through the API: the authenticated key and where the request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key: ApiKeyRecord,
    pub client_ip: Option<IpAddr>,
}

impl Caller {
    /// `key:ID sender`, as the audit log names an API caller.
    pub fn actor(&self) -> String {
        format!("key:{} {}", self.key.id, self.key.sender)
    }
}

/// How a gift is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GiftOptions {
    /// An operator's bulk import: lifts the per-sender limits.
    pub bulk: bool,
    /// The API caller: its key's limits apply and its key id, client IP and outcome are audited
    /// for every gift. `None`: the process's own settings (CLI, dashboard).
    pub caller: Option<Caller>,
}

impl GiftOptions {
    /// An operator's bulk import from this process: no per-sender limits, no API caller.
    pub fn bulk() -> GiftOptions {
        GiftOptions {
            bulk: true,
            caller: None,
        }
    }
}

/// An accepted gift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftReceipt {
    pub voucher_id: Uuid,
    /// The idempotency key was used before for this gift: this is the earlier voucher (sent
    /// again, harmlessly: the consumer persists by voucher id).
    pub duplicate: bool,
    /// What is left of the sender's per-minute burst in this process after the gift (`None`: no
    /// burst limit applied, or a replay).
    #[serde(skip)]
    pub burst_left: Option<u32>,
}

pub(crate) fn next_utc_midnight(now: Timestamp) -> Timestamp {
    const DAY_MS: i64 = 86_400_000;
    Timestamp((now.millis().div_euclid(DAY_MS) + 1) * DAY_MS)
}

/// Requests admitted at once while checking a batch.
const ADMIT_PARALLEL: usize = 16;

impl Pipeline {
    /// Gifts one voucher.
    pub async fn gift(
        &self,
        req: &GiftRequest,
        opts: GiftOptions,
    ) -> Result<GiftReceipt, GiftError> {
        let mut out = self.gift_many(std::slice::from_ref(req), opts).await;
        out.pop()
            .unwrap_or_else(|| Err(GiftError::Backend(BackendError::Other("no result".into()))))
    }

    /// Gifts many vouchers: each is checked on its own; the accepted ones join the coalesced
    /// sends. The result has one entry per request, in order; an `Ok` is returned only once SQS
    /// has the message.
    ///
    /// The work runs on a task of its own: once called, every admitted gift is sent, indexed and
    /// audited even if the caller stops waiting (a client that went away, a request timeout);
    /// [`Pipeline::finish_producing`] waits for these tasks.
    ///
    /// Audited: with a caller, one entry per gift (key id, client IP, outcome); without, one
    /// entry per call (how many were queued, refused and failed). Refused read-only.
    pub async fn gift_many(
        &self,
        reqs: &[GiftRequest],
        opts: GiftOptions,
    ) -> Vec<Result<GiftReceipt, GiftError>> {
        let this = self.clone();
        let owned = reqs.to_vec();
        let task = self
            .producer()
            .gifts
            .spawn(async move { this.gift_many_here(&owned, opts).await });
        task.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, count = reqs.len(), "a gift task failed");
            reqs.iter()
                .map(|_| {
                    Err(GiftError::Unknown(BackendError::Other(
                        "the gift task failed".into(),
                    )))
                })
                .collect()
        })
    }

    async fn gift_many_here(
        &self,
        reqs: &[GiftRequest],
        opts: GiftOptions,
    ) -> Vec<Result<GiftReceipt, GiftError>> {
        let target = self.backend().names.queue.clone();
        if self.guard(AuditAction::Gift, &target).await.is_err() {
            let results: Vec<_> = reqs.iter().map(|_| Err(GiftError::ReadOnly)).collect();
            if let Some(caller) = &opts.caller {
                // The guard audited the refusal under the process's name; say whose it was.
                self.audit_gifts(caller, &target, reqs, &results).await;
            }
            return results;
        }
        let results = self.queue_gifts(reqs, &opts).await;
        match &opts.caller {
            Some(caller) => self.audit_gifts(caller, &target, reqs, &results).await,
            None => self.audit_summary(&target, &results, opts.bulk).await,
        }
        results
    }

    async fn queue_gifts(
        &self,
        reqs: &[GiftRequest],
        opts: &GiftOptions,
    ) -> Vec<Result<GiftReceipt, GiftError>> {
        use futures::StreamExt;
        let checks: Vec<_> = reqs.iter().map(|req| self.admit(req, opts)).collect();
        let admitted: Vec<_> = futures::stream::iter(checks)
            .buffered(ADMIT_PARALLEL)
            .collect()
            .await;
        let sends = admitted.into_iter().map(|a| async move {
            let admitted = a?;
            let sent = self.send_voucher(&admitted.voucher).await;
            // The key's next request may go once this one is sent (or failed).
            drop(admitted.turn);
            sent?;
            Ok((admitted.voucher, admitted.duplicate, admitted.burst_left))
        });
        let sent = futures::future::join_all(sends).await;
        let mut accepted = Vec::new();
        let results = sent
            .into_iter()
            .map(|r| {
                r.map(|(voucher, duplicate, burst_left)| {
                    if !duplicate {
                        accepted.push(Accepted {
                            voucher_id: voucher.voucher_id,
                            sender: voucher.sender.clone(),
                            at: voucher.created_at,
                        });
                    }
                    GiftReceipt {
                        voucher_id: voucher.voucher_id,
                        duplicate,
                        burst_left,
                    }
                })
            })
            .collect();
        self.index_accepted(accepted).await;
        results
    }

    /// One audit entry per gift of an API caller.
    async fn audit_gifts(
        &self,
        caller: &Caller,
        target: &str,
        reqs: &[GiftRequest],
        results: &[Result<GiftReceipt, GiftError>],
    ) {
        let actor = caller.actor();
        let entries: Vec<AuditEntry> = reqs
            .iter()
            .zip(results)
            .map(|(req, r)| {
                let (outcome, detail) = match r {
                    Ok(receipt) => (
                        AuditOutcome::Ok,
                        format!(
                            "voucher {}{}",
                            receipt.voucher_id,
                            if receipt.duplicate {
                                " (repeated key)"
                            } else {
                                ""
                            }
                        ),
                    ),
                    Err(e) if e.is_refusal() => (AuditOutcome::Refused, e.to_string()),
                    Err(e) => (AuditOutcome::Failed, e.to_string()),
                };
                let detail = match &req.idempotency_key {
                    Some(k) => format!("{detail}; idempotency key {k:?}"),
                    None => detail,
                };
                let mut entry = AuditEntry::new(
                    actor.clone(),
                    AuditAction::Gift,
                    target,
                    u64::from(r.is_ok()),
                    outcome,
                )
                .with_detail(detail);
                entry.client_ip = caller.client_ip.map(|ip| ip.to_string());
                entry
            })
            .collect();
        self.audit_later(entries).await;
    }

    /// One audit entry for a whole call of the process's own (CLI, dashboard).
    async fn audit_summary(
        &self,
        target: &str,
        results: &[Result<GiftReceipt, GiftError>],
        bulk: bool,
    ) {
        let queued = results.iter().filter(|r| r.is_ok()).count();
        let failed = results
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| !e.is_refusal()))
            .count();
        let refused = results.len() - queued - failed;
        let outcome = match (queued, failed) {
            (0, 0) => AuditOutcome::Refused,
            (0, _) => AuditOutcome::Failed,
            _ => AuditOutcome::Ok,
        };
        let entry = self
            .audit_entry(AuditAction::Gift, target, queued as u64, outcome)
            .await
            .with_detail(format!(
                "{queued} queued, {refused} refused, {failed} failed{}",
                if bulk { " (bulk)" } else { "" }
            ));
        self.audit(entry).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnight() {
        let t = Timestamp::parse_rfc3339("2026-11-25T13:00:00Z").expect("ts");
        assert_eq!(next_utc_midnight(t).to_string(), "2026-11-26T00:00:00.000Z");
    }
}
