//! The domain and the ports: the rules of a voucher pipeline (validation, amounts, recipients,
//! limits, records) and the small async traits the services speak through. No runtime, no SDK, no
//! terminal, no HTTP: `cargo tree -p voucherdeck-core` is the proof.

pub mod backend;
pub mod domain;
pub mod ports;
