//! Cross-cutting layers written for this API: metrics and latency of every answer, the header size
//! limit, and the per-client-IP limit with its headers. (Timeouts, the body limit, load shedding and
//! request ids are tower and tower-http layers, see `router`.)

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::state::AppState;
use voucherdeck_core::domain::limits::API_HEADERS_MAX;

/// The client's address, as the per-IP limit found it (for handlers and the audit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) std::net::IpAddr);

/// Counts every answer by status and times it.
pub(crate) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let meter = state.pipeline.intake().clone();
    let _in_flight = meter.start();
    let started = Instant::now();
    let response = next.run(req).await;
    meter.answered(response.status().as_u16(), started.elapsed());
    response
}

/// Refuses requests whose headers are larger than `API_HEADERS_MAX` (431).
pub(crate) async fn header_limit(req: Request, next: Next) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > API_HEADERS_MAX {
        return Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers too large",
            format!("the request's headers are {size} bytes; at most {API_HEADERS_MAX} are read"),
        )
        .into_response();
    }
    next.run(req).await
}

/// The per-client-IP limit: 429 when spent; `RateLimit-*` headers on every answer.
pub(crate) async fn ip_limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = state.client_ip(peer.ip(), req.headers());
    req.extensions_mut().insert(ClientIp(ip));
    let Some(verdict) = state.ip_limiter.check(&ip) else {
        return next.run(req).await;
    };
    if let Some(wait) = verdict.retry_after {
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ip-rate-limited",
            "Too many requests from this address",
            format!(
                "{ip} may make {} requests per minute; try again in {} s",
                verdict.limit,
                wait.as_secs_f64().ceil().max(1.0)
            ),
        )
        .retry_after(wait, verdict.limit)
        .into_response();
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if !headers.contains_key("ratelimit-limit") {
        for (name, value) in [
            ("ratelimit-limit", verdict.limit),
            ("ratelimit-remaining", verdict.remaining),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
        headers.insert(
            HeaderName::from_static("ratelimit-policy"),
            HeaderValue::from_str(&format!("{};w=60", verdict.limit))
                .unwrap_or(HeaderValue::from_static("")),
        );
    }
    response
}
