//! Admission of one gift: validation, the limits, then the idempotency key. A key is recorded only
//! for a voucher whose limits were granted, so a key resends only an admitted voucher; a request
//! that a limit refuses learns whether its key admitted a voucher before (a retry is answered,
//! not refused).

use super::key_turns::KeyTurn;
use super::quota::Unit;
use super::{Caller, GiftError, GiftOptions, next_utc_midnight};
use crate::services::Pipeline;
use voucherdeck_core::domain::limits::IDEMPOTENCY_KEY_WAIT;
use voucherdeck_core::domain::{
    GiftRequest, KeyUse, Timestamp, ValidGift, Voucher, gift_fingerprint, idempotency_record_key,
    validate,
};
use voucherdeck_core::ports::Claim;

/// A voucher to queue, whether it is an earlier one sent again, and its key's turn (held until
/// it is sent).
pub(super) struct Admitted {
    pub(super) voucher: Voucher,
    pub(super) duplicate: bool,
    pub(super) turn: Option<KeyTurn>,
    /// What is left of the sender's burst after this gift (`None`: no burst limit applied).
    pub(super) burst_left: Option<u32>,
}

/// Whose limits a gift takes: the subject counted, its burst and its daily cap (0: none).
struct LimitsOf {
    subject: String,
    per_minute: u32,
    daily: u32,
}

fn limits_of(gift: &ValidGift, caller: Option<&Caller>, per_minute: u32, daily: u32) -> LimitsOf {
    match caller {
        Some(c) => LimitsOf {
            subject: format!("key:{}", c.key.id),
            per_minute: c.key.per_minute,
            daily: c.key.daily,
        },
        None => LimitsOf {
            subject: gift.sender.clone(),
            per_minute,
            daily,
        },
    }
}

/// The earlier voucher of a key, if it was for the same gift.
fn replay(used: KeyUse, fingerprint: &str, key: &str) -> Result<Admitted, GiftError> {
    if used.fingerprint == fingerprint {
        Ok(Admitted {
            voucher: used.voucher,
            duplicate: true,
            turn: None,
            burst_left: None,
        })
    } else {
        Err(GiftError::KeyReused {
            key: key.to_string(),
        })
    }
}

impl Pipeline {
    pub(super) async fn admit(
        &self,
        req: &GiftRequest,
        opts: &GiftOptions,
    ) -> Result<Admitted, GiftError> {
        let mut req = req.clone();
        if let Some(c) = &opts.caller {
            // The sender is the authenticated identity, never what the request says.
            req.sender.clone_from(&c.key.sender);
        }
        let gift = validate(&req, &self.config().limits).map_err(GiftError::Invalid)?;
        let fingerprint = gift_fingerprint(&gift);
        let key = gift.idempotency_key.clone();
        let record_key = key
            .as_deref()
            .map(|k| idempotency_record_key(&gift.sender, k));
        let cfg = self.config();
        let limits = limits_of(&gift, opts.caller.as_ref(), cfg.per_minute, cfg.daily_cap);
        // One request at a time per key here: a second waits for the first, then answers as it.
        let turn = match (&key, &record_key) {
            (Some(k), Some(rk)) => Some(
                self.producer()
                    .key_turns
                    .enter(rk, IDEMPOTENCY_KEY_WAIT)
                    .await
                    .ok_or_else(|| GiftError::KeyInFlight { key: k.clone() })?,
            ),
            _ => None,
        };
        let now = Timestamp::now();
        let store = &self.backend().store;
        let taken = self
            .take_limits(&gift.sender, &limits, now, opts.bulk)
            .await;
        let burst_left = match taken {
            Ok(left) => left,
            Err(refused) => {
                if let (Some(k), Some(rk)) = (&key, &record_key)
                    && let Some(used) = store
                        .idempotency_key(rk)
                        .await
                        .map_err(GiftError::Backend)?
                {
                    return replay(used, &fingerprint, k);
                }
                return Err(refused);
            }
        };
        let voucher = Voucher::new(gift, now);
        let (Some(k), Some(rk)) = (&key, &record_key) else {
            return Ok(Admitted {
                voucher,
                duplicate: false,
                turn,
                burst_left,
            });
        };
        let used = KeyUse {
            voucher,
            fingerprint,
        };
        let claim = store.claim_idempotency_key(rk, &used).await;
        match claim {
            // Ours, or ours again: an SDK retry after a lost answer finds its own record.
            Ok(Claim::New) => {}
            Ok(Claim::Existing(first)) if first.voucher.voucher_id == used.voucher.voucher_id => {}
            Ok(Claim::Existing(first)) => {
                self.give_back_unit(&limits, now, opts.bulk).await;
                return replay(*first, &used.fingerprint, k);
            }
            // The claim may have been written with its answer lost: its unit stays spent, so a
            // retry with this key, replaying the recorded voucher, gives back its own unit and
            // the voucher is counted once (never zero times).
            Err(e) => return Err(GiftError::Backend(e)),
        }
        Ok(Admitted {
            voucher: used.voucher,
            duplicate: false,
            turn,
            burst_left,
        })
    }

    /// The burst limit (this process) and a unit of the daily cap (every process); what is left
    /// of the burst.
    async fn take_limits(
        &self,
        sender: &str,
        limits: &LimitsOf,
        now: Timestamp,
        bulk: bool,
    ) -> Result<Option<u32>, GiftError> {
        if bulk {
            return Ok(None);
        }
        let burst_left = self
            .producer()
            .limiter
            .check(&limits.subject, limits.per_minute)
            .map_err(|retry_after| GiftError::RateLimited {
                sender: sender.to_string(),
                per_minute: limits.per_minute,
                retry_after,
            })?;
        if limits.daily == 0 {
            return Ok(burst_left);
        }
        let unit = self
            .producer()
            .quota
            .take(
                self.backend().store.as_ref(),
                &limits.subject,
                &now.day(),
                limits.daily,
            )
            .await
            .map_err(GiftError::Backend)?;
        match unit {
            Unit::Granted => Ok(burst_left),
            Unit::Exhausted => Err(GiftError::DailyCap {
                sender: sender.to_string(),
                limit: limits.daily,
                retry_at: next_utc_midnight(now),
            }),
        }
    }

    async fn give_back_unit(&self, limits: &LimitsOf, now: Timestamp, bulk: bool) {
        if !bulk && limits.daily > 0 {
            self.producer()
                .quota
                .give_back(&limits.subject, &now.day())
                .await;
        }
    }
}
