//! The voucher domain: pure types and rules, no I/O.

pub mod alarm;
pub mod alarm_eval;
pub mod alarm_watch;
pub mod amount;
pub mod apikey;
pub mod audit;
pub mod currency;
pub mod failure;
pub mod gift;
pub mod idempotency;
pub mod limits;
pub mod message;
mod message_rules;
pub mod metric_names;
pub mod note;
pub mod recipient;
pub mod salvage;
pub mod sender;
pub mod tables;
pub mod text;
pub mod time;
pub mod voucher;

pub use alarm::{
    AlarmKind, AlarmRule, AlarmState, AlarmStatus, AlarmThresholds, Comparison, alarm_rules,
};
pub use alarm_eval::{Evaluation, PeriodFigures};
pub use alarm_watch::{ALARM_PERIOD_SECS, AlarmWatch, MetricInput, MetricRef, alarm_watch};
pub use amount::Amount;
pub use apikey::{ApiKeyRecord, KeySpec, NewApiKey, Role};
pub use audit::{AuditAction, AuditEntry, AuditOutcome};
pub use failure::{FailureKind, FailureRecord};
pub use gift::{
    Field, FieldError, GiftRequest, Limits, ValidGift, ValidationErrors, note_rule, validate,
    validate_field,
};
pub use idempotency::{KeyUse, gift_fingerprint, idempotency_record_key};
pub use limits::{AgeLevel, AgeThresholds, QueueName, QueueNameError};
pub use message::{DecodeError, decode, encode};
pub use note::OperatorNote;
pub use recipient::{Recipient, mask, redact};
pub use salvage::{Salvaged, salvage};
pub use sender::{TrustedSenders, TrustedSendersError};
pub use tables::TableDef;
pub use time::{Timestamp, outage_words, short_duration, whole_duration};
pub use voucher::{Persisted, Voucher, decide_persist};
