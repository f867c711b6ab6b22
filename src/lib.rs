//! voucherdeck: an SQS-backed voucher pipeline and its terminal dashboard. This crate is the binary's
//! command line; the layers are crates of their own (see CONTRIBUTING.md).

pub mod cli;
