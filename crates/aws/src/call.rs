//! One SDK call, the same way everywhere: count the request, await it, map its error to a
//! [`BackendError`] naming the operation and the resource. The operation is named once. The SDK's
//! request futures are large, so each call is boxed (a small future for its callers to hold). A
//! paginated call's pages go the same way, one request each ([`Pages`]).

use std::future::Future;

use futures::future::BoxFuture;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

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

/// A paginated request's pages as an SDK paginator's `send()` returns them.
pub(crate) type PageStream<T, E> = PaginationStream<Result<T, SdkError<E, HttpResponse>>>;

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

    /// The pages of a paginated request (an SDK paginator's `send()`), each counted and its error
    /// mapped like [`Call::send`]'s.
    pub(crate) fn pages<T, E>(self, stream: PageStream<T, E>) -> Pages<'a, T, E> {
        Pages {
            call: self,
            stream,
            maybe_unsupported: false,
        }
    }

    /// Like [`Call::pages`], for operations some endpoints lack (a bare 5xx becomes `Unsupported`,
    /// as with [`Call::send_maybe_unsupported`]).
    pub(crate) fn pages_maybe_unsupported<T, E>(self, stream: PageStream<T, E>) -> Pages<'a, T, E> {
        Pages {
            call: self,
            stream,
            maybe_unsupported: true,
        }
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

/// A paginated request's pages through a [`Call`], read with [`Pages::next`]. The paginator sends
/// a page's request only when that page is asked for, and none after the last page or an error:
/// stopping early sends no more.
pub(crate) struct Pages<'a, T, E> {
    call: Call<'a>,
    stream: PageStream<T, E>,
    maybe_unsupported: bool,
}

impl<T, E> Pages<'_, T, E>
where
    E: ProvideErrorMetadata + std::error::Error + Send + 'static,
{
    /// The next page, `None` after the last. Each page is counted as one request when it arrives
    /// (not before it is sent, as [`Call::send`] counts: only the paginator knows whether another
    /// page follows).
    pub(crate) async fn next(&mut self) -> Result<Option<T>> {
        let Some(page) = self.stream.next().await else {
            return Ok(None);
        };
        let call = self.call;
        call.requests.hit(call.op);
        page.map(Some).map_err(|e| {
            if self.maybe_unsupported {
                map_sdk_maybe_unsupported(call.op, call.resource, &e)
            } else {
                call.error(&e)
            }
        })
    }
}
