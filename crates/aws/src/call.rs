//! One SDK call, the same way everywhere: count the request, await it, map its error to a
//! [`BackendError`] naming the operation and the resource. The operation is named once. The SDK's
//! request futures are large, so each call is boxed (a small future for its callers to hold).

use std::future::Future;

use futures::future::BoxFuture;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{BuildError, ProvideErrorMetadata, SdkError};

use super::errors::{map_build, map_sdk, map_sdk_maybe_unsupported};
use voucherdeck_core::ports::{BackendError, RequestCounter, Result};

/// A request as an SDK fluent builder's `send()` returns it.
pub(crate) trait Request<'a, T, E>:
    Future<Output = Result<T, SdkError<E, HttpResponse>>> + Send + 'a
{
}

impl<'a, T, E, F> Request<'a, T, E> for F where
    F: Future<Output = Result<T, SdkError<E, HttpResponse>>> + Send + 'a
{
}

/// An SDK operation (`sqs:ReceiveMessage`) about one resource (a queue or table name).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    requests: &'a RequestCounter,
    op: &'static str,
    resource: &'a str,
}

impl<'a> Call<'a> {
    pub(crate) fn new(requests: &'a RequestCounter, op: &'static str, resource: &'a str) -> Self {
        Call {
            requests,
            op,
            resource,
        }
    }

    /// The operation, e.g. `sqs:ReceiveMessage`.
    pub(crate) fn op(&self) -> &'static str {
        self.op
    }

    /// What the call is about: a queue or table name.
    pub(crate) fn resource(&self) -> &'a str {
        self.resource
    }

    /// Counts the request, awaits it and maps its error.
    pub(crate) fn send<T, E>(self, request: impl Request<'a, T, E>) -> BoxFuture<'a, Result<T>>
    where
        T: Send + 'a,
        E: ProvideErrorMetadata + std::error::Error + Send + 'static,
    {
        Box::pin(async move { self.send_raw(request).await.map_err(|e| self.error(&e)) })
    }

    /// Like [`Call::send`], for operations some endpoints lack (a bare 5xx becomes `Unsupported`).
    pub(crate) fn send_maybe_unsupported<T, E>(
        self,
        request: impl Request<'a, T, E>,
    ) -> BoxFuture<'a, Result<T>>
    where
        T: Send + 'a,
        E: ProvideErrorMetadata + std::error::Error + Send + 'static,
    {
        Box::pin(async move {
            self.send_raw(request)
                .await
                .map_err(|e| map_sdk_maybe_unsupported(self.op, self.resource, &e))
        })
    }

    /// Like [`Call::send`], but an error for which `expected` is true is an answer, not a failure:
    /// `Ok(None)` (the queue does not exist, the condition failed…).
    pub(crate) fn send_unless<T, E>(
        self,
        request: impl Request<'a, T, E>,
        expected: impl Fn(&SdkError<E, HttpResponse>) -> bool + Send + 'a,
    ) -> BoxFuture<'a, Result<Option<T>>>
    where
        T: Send + 'a,
        E: ProvideErrorMetadata + std::error::Error + Send + 'static,
    {
        Box::pin(async move {
            match self.send_raw(request).await {
                Ok(out) => Ok(Some(out)),
                Err(e) if expected(&e) => Ok(None),
                Err(e) => Err(self.error(&e)),
            }
        })
    }

    /// Counts the request and awaits it, leaving its error as the SDK's.
    async fn send_raw<T, E>(
        self,
        request: impl Request<'a, T, E>,
    ) -> Result<T, SdkError<E, HttpResponse>> {
        self.requests.hit(self.op);
        request.await
    }

    /// The domain error for an SDK error of this call.
    pub(crate) fn error<E>(&self, err: &SdkError<E, HttpResponse>) -> BackendError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        map_sdk(self.op, self.resource, err)
    }

    /// The domain error for a request of this call that could not be built.
    pub(crate) fn build_error(&self, err: &BuildError) -> BackendError {
        map_build(self.op, self.resource, err)
    }
}
