//! voucherdeck: an SQS-backed voucher pipeline and its terminal dashboard.

pub mod domain;
pub mod backend;
pub mod ports;
pub mod aws;
pub mod embedded;
pub mod pipeline;
pub mod cli;
