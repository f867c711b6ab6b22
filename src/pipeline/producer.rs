//! The producer: validate, rate-limit per sender, claim idempotency keys, send in batches.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::services::Pipeline;
use crate::domain::{
    AuditAction, AuditOutcome, GiftRequest, Timestamp, ValidationErrors, Voucher, encode, validate,
};
use crate::ports::{BackendError, Claim, OutgoingMessage, Quota, SQS_BATCH_MAX};

/// Attempts for a batch's failed entries before giving up on them.
const SEND_ATTEMPTS: u32 = 4;

/// How a gift is submitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GiftOptions {
    /// An operator's bulk import: lifts the per-sender limits.
    pub bulk: bool,
}

/// An accepted gift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftReceipt {
    pub voucher_id: Uuid,
    /// The idempotency key was used before: this is the earlier voucher (sent again, harmlessly).
    pub duplicate: bool,
}

/// Why a gift was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiftError {
    Invalid(ValidationErrors),
    /// The per-minute burst limit of this process.
    RateLimited {
        sender: String,
        per_minute: u32,
        retry_after: Duration,
    },
    /// The daily cap shared by every process.
    DailyCap {
        sender: String,
        limit: u32,
        retry_at: Timestamp,
    },
    /// The pipeline runs read-only.
    ReadOnly,
    Backend(BackendError),
}

impl GiftError {
    /// Usage errors (the request's fault) versus backend failures.
    pub const fn is_refusal(&self) -> bool {
        !matches!(self, GiftError::Backend(_))
    }
}

impl fmt::Display for GiftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiftError::Invalid(e) => write!(f, "invalid gift: {e}"),
            GiftError::RateLimited {
                sender,
                per_minute,
                retry_after,
            } => write!(
                f,
                "rate limit: {sender} may gift {per_minute} vouchers per minute; try again in {:.0} s",
                retry_after.as_secs_f64().ceil()
            ),
            GiftError::DailyCap {
                sender,
                limit,
                retry_at,
            } => write!(
                f,
                "daily cap: {sender} has gifted {limit} vouchers today (UTC); try again after {retry_at}"
            ),
            GiftError::ReadOnly => {
                f.write_str("read-only: gifting is refused (this pipeline runs read-only)")
            }
            GiftError::Backend(e) => write!(f, "could not queue the gift: {e}"),
        }
    }
}

impl std::error::Error for GiftError {}

fn next_utc_midnight(now: Timestamp) -> Timestamp {
    const DAY_MS: i64 = 86_400_000;
    Timestamp((now.millis().div_euclid(DAY_MS) + 1) * DAY_MS)
}

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

    /// Gifts many vouchers: each is checked on its own, the accepted ones are sent in batches of 10.
    /// The result has one entry per request, in order.
    ///
    /// Audited as one entry per call (how many were queued, refused and failed); refused
    /// read-only.
    pub async fn gift_many(
        &self,
        reqs: &[GiftRequest],
        opts: GiftOptions,
    ) -> Vec<Result<GiftReceipt, GiftError>> {
        let target = self.backend().names.queue.clone();
        if self.guard(AuditAction::Gift, &target).await.is_err() {
            return reqs.iter().map(|_| Err(GiftError::ReadOnly)).collect();
        }
        let results = self.queue_gifts(reqs, opts).await;
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
            .audit_entry(AuditAction::Gift, &target, queued as u64, outcome)
            .await
            .with_detail(format!(
                "{queued} queued, {refused} refused, {failed} failed{}",
                if opts.bulk { " (bulk)" } else { "" }
            ));
        self.audit(entry).await;
        results
    }

    async fn queue_gifts(
        &self,
        reqs: &[GiftRequest],
        opts: GiftOptions,
    ) -> Vec<Result<GiftReceipt, GiftError>> {
        let mut results: Vec<Option<Result<GiftReceipt, GiftError>>> = vec![None; reqs.len()];
        let mut to_send: Vec<(usize, Voucher, bool)> = Vec::new();
        for (i, req) in reqs.iter().enumerate() {
            match self.admit(req, opts).await {
                Ok((voucher, duplicate)) => to_send.push((i, voucher, duplicate)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let queue = match self.queue().await {
            Ok(q) => q,
            Err(e) => {
                for (i, _, _) in &to_send {
                    results[*i] = Some(Err(GiftError::Backend(e.clone())));
                }
                return finish(results);
            }
        };
        for chunk in to_send.chunks(SQS_BATCH_MAX) {
            let messages: Vec<OutgoingMessage> = chunk
                .iter()
                .map(|(i, v, _)| OutgoingMessage {
                    id: i.to_string(),
                    body: encode(v),
                    attributes: BTreeMap::from([(
                        "voucherdeck.kind".to_string(),
                        "voucher".to_string(),
                    )]),
                    delay: None,
                })
                .collect();
            let sent = self.send_with_retry(&queue, messages).await;
            for (i, v, duplicate) in chunk {
                results[*i] = Some(match sent.get(&i.to_string()) {
                    Some(Ok(())) => Ok(GiftReceipt {
                        voucher_id: v.voucher_id,
                        duplicate: *duplicate,
                    }),
                    Some(Err(e)) => Err(GiftError::Backend(e.clone())),
                    None => Err(GiftError::Backend(BackendError::Other(
                        "the batch lost this entry".into(),
                    ))),
                });
            }
        }
        finish(results)
    }

    /// Validation, the idempotency claim and the limits for one request. A key seen before sends
    /// the first voucher again and costs no quota (a retry after a failed send is not refused); a
    /// new keyed gift that a limit refuses gives its claim back.
    async fn admit(
        &self,
        req: &GiftRequest,
        opts: GiftOptions,
    ) -> Result<(Voucher, bool), GiftError> {
        let gift = validate(req, &self.config().limits).map_err(GiftError::Invalid)?;
        let now = Timestamp::now();
        let store = &self.backend().store;
        let key = gift.idempotency_key.clone();
        let sender = gift.sender.clone();
        let voucher = Voucher::new(gift, now);
        if let Some(key) = &key {
            // The consumer persists by voucher id, so resending the first voucher is harmless.
            match store
                .claim_idempotency_key(&sender, key, &voucher)
                .await
                .map_err(GiftError::Backend)?
            {
                Claim::New => {}
                Claim::Existing(first) => return Ok((*first, true)),
            }
        }
        if let Err(refused) = self.check_limits(&sender, now, opts).await {
            if let Some(key) = &key
                && let Err(e) = store
                    .release_idempotency_key(&sender, key, voucher.voucher_id)
                    .await
            {
                tracing::warn!(error = %e, "could not release an idempotency key after a refusal");
            }
            return Err(refused);
        }
        Ok((voucher, false))
    }

    /// The per-minute burst limit (this process) and the daily cap (every process).
    async fn check_limits(
        &self,
        sender: &str,
        now: Timestamp,
        opts: GiftOptions,
    ) -> Result<(), GiftError> {
        if opts.bulk {
            return Ok(());
        }
        let limiter = self.limiter();
        limiter
            .check(sender)
            .map_err(|retry_after| GiftError::RateLimited {
                sender: sender.to_string(),
                per_minute: limiter.per_minute(),
                retry_after,
            })?;
        let cap = self.config().daily_cap;
        if cap == 0 {
            return Ok(());
        }
        match self
            .backend()
            .store
            .take_daily_quota(sender, &now.day(), cap)
            .await
            .map_err(GiftError::Backend)?
        {
            Quota::Granted { .. } => Ok(()),
            Quota::Exhausted { limit } => Err(GiftError::DailyCap {
                sender: sender.to_string(),
                limit,
                retry_at: next_utc_midnight(now),
            }),
        }
    }

    /// Sends a batch; entries that fail for the service's reasons are retried alone, with backoff.
    async fn send_with_retry(
        &self,
        queue: &crate::ports::QueueRef,
        mut pending: Vec<OutgoingMessage>,
    ) -> BTreeMap<String, Result<(), BackendError>> {
        let mut out = BTreeMap::new();
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=SEND_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            match self.backend().queue.send_batch(queue, &pending).await {
                Ok(outcome) => {
                    for id in outcome.succeeded {
                        out.insert(id, Ok(()));
                    }
                    let mut retry = Vec::new();
                    for f in outcome.failed {
                        let err = BackendError::Other(format!("{}: {}", f.code, f.message));
                        if f.sender_fault || attempt == SEND_ATTEMPTS {
                            out.insert(f.id, Err(err));
                        } else if let Some(m) = pending.iter().find(|m| m.id == f.id) {
                            retry.push(m.clone());
                        }
                    }
                    pending = retry;
                }
                Err(e) if e.is_retryable() && attempt < SEND_ATTEMPTS => {}
                Err(e) => {
                    for m in &pending {
                        out.insert(m.id.clone(), Err(e.clone()));
                    }
                    pending.clear();
                }
            }
            if !pending.is_empty() {
                tokio::time::sleep(delay + Duration::from_millis(fastrand::u64(0..50))).await;
                delay *= 2;
            }
        }
        out
    }
}

fn finish(
    results: Vec<Option<Result<GiftReceipt, GiftError>>>,
) -> Vec<Result<GiftReceipt, GiftError>> {
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(GiftError::Backend(BackendError::Other(
                    "not attempted".into(),
                )))
            })
        })
        .collect()
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
