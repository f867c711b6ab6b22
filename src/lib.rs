//! voucherdeck: an SQS-backed voucher pipeline and its terminal dashboard.

pub mod domain;
pub mod backend;
pub mod ports;
