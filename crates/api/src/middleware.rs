//! Cross-cutting layers written for this API: metrics and latency of every answer, the header size
//! limit, and the per-client-IP limit with its headers. (Timeouts, the body limit, load shedding and
//! request ids are tower and tower-http layers, see `router`.)

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::ratelimit::{Policy, RateReport};
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

/// The per-client-IP limit: 429 when spent. Every answer carries the `RateLimit-Policy` and
/// `RateLimit` headers of the policies that applied to its request (this one and those the key
/// extractor and handlers report, see `ratelimit`).
pub(crate) async fn ip_limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = state.client_ip(peer.ip(), req.headers());
    let report = RateReport::default();
    req.extensions_mut().insert(ClientIp(ip));
    req.extensions_mut().insert(report.clone());
    let mut response = match state.ip_limiter.check(&ip) {
        Some(verdict) => {
            let policy = Policy::per_minute("ip", verdict.limit, Some(verdict.remaining));
            if let Some(wait) = verdict.retry_after {
                report.add(policy.spent(wait));
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "ip-rate-limited",
                    "Too many requests from this address",
                    format!(
                        "{ip} may make {} requests per minute; try again in {} s",
                        verdict.limit,
                        wait.as_secs_f64().ceil().max(1.0)
                    ),
                )
                .retry_after(wait)
                .into_response()
            } else {
                report.add(policy);
                next.run(req).await
            }
        }
        None => next.run(req).await,
    };
    report.write(response.headers_mut());
    response
}
