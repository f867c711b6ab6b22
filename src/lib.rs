//! voucherdeck: an SQS-backed voucher pipeline and its terminal dashboard.

pub mod api;
pub mod aws;
pub mod backend;
pub mod cli;
pub mod domain;
pub mod editor;
pub mod embedded;
pub mod pipeline;
pub mod ports;
pub mod tui;
