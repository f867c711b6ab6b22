//! The services: producer, consumer, redrive, monitor, provision, DLQ triage and failures. Every front
//! end (dashboard, headless commands) calls these; they know nothing of terminals.
//!
//! The whole service API, on [`Pipeline`] (cheap to clone; one per backend):
//!
//! | service | calls | types |
//! | --- | --- | --- |
//! | resources | `new`, `backend`, `config`, `queue`, `dlq`, `open_queue` | [`PipelineConfig`] |
//! | producer | `gift`, `gift_many`, `finish_producing` | [`GiftOptions`], [`Caller`], [`GiftReceipt`], [`GiftError`] |
//! | intake figures | `intake`, `start_intake_metrics` → [`IntakePublisher`], `metrics_cadence` | [`IntakeMeter`], [`IntakeSnapshot`] |
//! | vouchers | `voucher_status` | [`VoucherStatus`], [`VoucherState`] |
//! | API keys | `create_key`, `list_keys`, `revoke_key`, `authenticate` | [`AuthError`] |
//! | consumer | `start_consumer` → [`ConsumerHandle`] (`watch` → [`ConsumerWatch`]); `consume_delivered` (a batch a Lambda event source mapping hands over) → [`DeliveredOutcome`] | [`ConsumerConfig`], [`ConsumerEvent`], [`ConsumerSnapshot`], [`ConsumerReport`], [`ConsumerStats`] |
//! | DLQ triage | `peek_dlq`, `delete_dlq`, `open_dlq_session` → [`DlqSession`] (`load`, `load_each`, `export`, `count`, `delete`, `resend`, `release`), `count_dlq` | [`DlqMessage`], [`DlqFailure`], [`DlqFilter`], [`DlqCount`], [`DlqExport`], [`DLQ_BODY_BUDGET`], [`ResendReceipt`], [`PEEK_VISIBILITY`], [`DLQ_HOLD`] |
//! | redrive | `start_redrive` → [`RedriveHandle`] | [`RedriveRequest`], [`RedriveScope`], [`RedriveMethod`], [`RedriveProgress`], [`RedriveStatus`] |
//! | monitor | `spawn_monitor`, `depths`, `ages` | [`MonitorConfig`], [`MonitorUpdate`], [`DepthHistory`], [`DepthSample`] |
//! | failures | `recent_failures` | [`FailureRecord`](voucherdeck_core::domain::FailureRecord) |
//! | status | `status` | [`StatusReport`], [`QueueFigures`] |
//! | provision | `provision`, `provision_alarms`, `stack_template` (a CloudFormation template of the same) | [`ProvisionReport`], [`Provisioned`], [`TemplateOptions`], [`PolicyFile`] |
//! | alarms | `alarms`, `alarm_rules` | [`AlarmReport`] |
//! | demo traffic (embedded) | [`spawn_demo`] | [`DemoConfig`] |
//! | stopping a run | — | [`Shutdown`] (raised by the one signal listener; the first stops, the second exits) |
//!
//! Every module below is private: what is not re-exported here is internal to the services.

mod alarms;
mod audit;
mod audit_sink;
mod coalesce;
mod config;
mod consumer;
mod cursor;
mod demo;
mod dlq;
mod failure_counts;
mod history;
mod intake;
mod intake_publish;
mod keys;
mod limiter;
mod lookup;
mod monitor;
mod ordering;
mod producer;
mod provision;
mod redrive;
mod services;
mod shutdown;
mod status;
mod template;

pub use alarms::{AlarmReport, NO_CLOUDWATCH_ALARMS};
pub use config::{DEFAULT_KEY_PEPPER, PipelineConfig, REDRIVE_HOLD_MAX};
pub use consumer::{
    ConsumerConfig, ConsumerEvent, ConsumerHandle, ConsumerReport, ConsumerSnapshot, ConsumerWatch,
    DeliveredOutcome,
};
pub use demo::{DemoConfig, spawn_demo};
pub use dlq::{
    DLQ_BODY_BUDGET, DLQ_HOLD, DLQ_SESSION_MAX, DlqCount, DlqExport, DlqFailure, DlqFilter,
    DlqMessage, DlqProgress, DlqSession, FailureAttributes, PEEK_VISIBILITY, ResendReceipt,
};
pub use failure_counts::{FAILURE_COUNT_READ_MAX, FailureCounts, Per, ReasonCounts};
pub use history::{DepthHistory, DepthSample};
pub use intake::{InFlight, IntakeMeter, IntakeSnapshot};
pub use intake_publish::IntakePublisher;
pub use keys::{AuthError, DEMO_DAILY, DEMO_PER_MINUTE, demo_curl};
pub use lookup::{VoucherState, VoucherStatus};
pub use monitor::{Feed, MonitorConfig, MonitorUpdate, NO_CLOUDWATCH, PollError};
pub use producer::{Caller, GiftError, GiftOptions, GiftReceipt};
pub use provision::{ProvisionReport, Provisioned};
pub use redrive::{
    RedriveFailure, RedriveHandle, RedriveMethod, RedriveProgress, RedriveRequest, RedriveScope,
    RedriveStatus,
};
pub use services::Pipeline;
pub use shutdown::Shutdown;
pub use status::{QueueFigures, StatusReport};
pub use template::{PolicyFile, TemplateOptions};
pub use voucherdeck_core::ports::ConsumerStats;
