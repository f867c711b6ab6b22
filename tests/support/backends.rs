//! The two backends a behaviour test runs on (the embedded engine, and moto through the SDK), a
//! provisioned pipeline on either, and `on_both_backends!`, which makes a test of each for every
//! `async fn(Kind)` named. Needs `mod moto` (support/moto.rs) beside it.

use voucherdeck_core::backend::Names;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, PipelineConfig};

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Embedded,
    Moto,
}

/// A provisioned pipeline, and the moto server behind it (stopped when dropped).
pub struct Env {
    pub p: Pipeline,
    _moto: Option<crate::moto::MotoServer>,
}

/// A pipeline on `kind` with these names and `config`, provisioned.
pub async fn env(kind: Kind, names: Names, config: PipelineConfig) -> Env {
    let (backend, server) = match kind {
        Kind::Embedded => (Embedded::new(names).backend, None),
        Kind::Moto => {
            let server = crate::moto::MotoServer::start();
            (crate::moto::aws_backend(&server, names).await, Some(server))
        }
    };
    let p = Pipeline::new(backend, config);
    p.provision().await.expect("provision");
    Env { p, _moto: server }
}

/// A test on each backend for every `async fn(Kind)` named.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Kind::Embedded).await })*
        }
        mod moto_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Kind::Moto).await })*
        }
    };
}
