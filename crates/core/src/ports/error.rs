//! The domain error every port returns, mapped at the adapter edge.

use crate::domain::FailureKind;

/// A backend failure, mapped at the adapter edge so services can decide retry versus DLQ.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("throttled: {0}")]
    Throttled(String),
    /// The service answered that it cannot serve now (HTTP 5xx, "service unavailable").
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// No answer at all: connection refused or reset, DNS, TLS.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No credentials could be found to sign the request with.
    #[error("no credentials: {0}")]
    NoCredentials(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("not supported by this backend: {0}")]
    Unsupported(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The pipeline was built read-only and the call would change something.
    #[error("read-only: {0} is refused (this pipeline runs read-only)")]
    ReadOnly(&'static str),
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// Whether trying again later can succeed.
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self,
            BackendError::Throttled(_)
                | BackendError::Unavailable(_)
                | BackendError::Unreachable(_)
                | BackendError::Timeout(_)
        )
    }

    /// Whether the endpoint did not answer at all (as opposed to answering with an error).
    pub const fn is_unreachable(&self) -> bool {
        matches!(
            self,
            BackendError::Unreachable(_) | BackendError::Timeout(_)
        )
    }

    /// The failure kind a consumer records for this error.
    pub const fn failure_kind(&self) -> FailureKind {
        match self {
            BackendError::Throttled(_) => FailureKind::Throttled,
            BackendError::Unavailable(_) | BackendError::Unreachable(_) => FailureKind::Unavailable,
            BackendError::Timeout(_) => FailureKind::Timeout,
            _ => FailureKind::Backend,
        }
    }
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;
