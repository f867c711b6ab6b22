//! Why a gift was refused: the one error every front end maps (a 4xx or 503 for the API, an exit
//! code for the command line, a form error on the dashboard).

use std::fmt;
use std::time::Duration;

use voucherdeck_core::domain::{Timestamp, ValidationErrors};
use voucherdeck_core::ports::BackendError;

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
    /// The idempotency key was used before for a different gift.
    KeyReused {
        key: String,
    },
    /// A request with this idempotency key is still in flight (on this server).
    KeyInFlight {
        key: String,
    },
    /// The pipeline runs read-only.
    ReadOnly,
    /// Nothing was queued: the failure came before the send, or the queue answered that it did
    /// not take the message.
    Backend(BackendError),
    /// The send may have reached the queue (it timed out, or its answer was lost): the voucher
    /// may be queued. A retry with the same idempotency key answers its voucher if it was.
    Unknown(BackendError),
    /// The queue refused the message as malformed: retrying will not help.
    Rejected(String),
}

impl GiftError {
    /// Usage errors (the request's fault) versus backend failures.
    pub const fn is_refusal(&self) -> bool {
        !matches!(
            self,
            GiftError::Backend(_) | GiftError::Unknown(_) | GiftError::Rejected(_)
        )
    }

    /// The backend failure behind it, if any.
    pub const fn backend_error(&self) -> Option<&BackendError> {
        match self {
            GiftError::Backend(e) | GiftError::Unknown(e) => Some(e),
            _ => None,
        }
    }

    /// A short name for the reason (metrics, audit).
    pub const fn reason(&self) -> &'static str {
        match self {
            GiftError::Invalid(_) => "invalid",
            GiftError::RateLimited { .. } => "rate_limited",
            GiftError::DailyCap { .. } => "daily_cap",
            GiftError::KeyReused { .. } => "key_reused",
            GiftError::KeyInFlight { .. } => "key_in_flight",
            GiftError::ReadOnly => "read_only",
            GiftError::Backend(_) => "backend",
            GiftError::Unknown(_) => "outcome_unknown",
            GiftError::Rejected(_) => "rejected",
        }
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
            GiftError::KeyReused { key } => write!(
                f,
                "idempotency key {key:?} was already used for a different gift (recipient, amount, currency or note differ); use a new key"
            ),
            GiftError::KeyInFlight { key } => write!(
                f,
                "a request with idempotency key {key:?} is still in flight; retry shortly, and the answer will be the first request's"
            ),
            GiftError::ReadOnly => {
                f.write_str("read-only: gifting is refused (this pipeline runs read-only)")
            }
            GiftError::Backend(e) => write!(f, "could not queue the gift: {e}; nothing was queued"),
            GiftError::Unknown(e) => write!(
                f,
                "the gift's outcome is unknown ({e}): the voucher may be queued"
            ),
            GiftError::Rejected(why) => write!(
                f,
                "the queue refused the message ({why}); retrying will not help"
            ),
        }
    }
}

impl std::error::Error for GiftError {}
