//! Operations endpoints: liveness, readiness (queue and tables reachable, cached a few seconds),
//! Prometheus metrics, the OpenAPI document, and the problems for unknown routes and methods.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use serde_json::json;
use uuid::Uuid;

use super::problem::Problem;
use super::state::AppState;

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = crate::openapi::bodies::Health)))]
pub(crate) async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Ready: the queue and the tables answer (checked at most every few seconds).
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses((status = 200, description = "Ready", body = crate::openapi::bodies::Ready)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let result = if let Some(r) = state.cached_ready() {
        r
    } else {
        let r = probe(&state).await;
        state.remember_ready(r.clone());
        r
    };
    match result {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => Problem::unavailable(format!("not ready: {e}")).into_response(),
    }
}

async fn probe(state: &AppState) -> Result<(), String> {
    let p = &state.pipeline;
    let queue = p.queue().await.map_err(|e| format!("queue: {e}"))?;
    p.backend()
        .queue
        .stats(&queue)
        .await
        .map_err(|e| format!("queue: {e}"))?;
    p.backend()
        .store
        .accepted(Uuid::nil())
        .await
        .map_err(|e| format!("quota table: {e}"))?;
    p.backend()
        .keys
        .get_key("0000000000000000")
        .await
        .map_err(|e| format!("key table: {e}"))?;
    Ok(())
}

/// The metrics, as Prometheus text 0.0.4 by default (what every scraper reads), or as
/// OpenMetrics 1.0 to a client that asks for it with `Accept: application/openmetrics-text`.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "The server's figures: Prometheus text format 0.0.4, or \
        OpenMetrics 1.0.0 when asked for with `Accept: application/openmetrics-text`",
        content(
            (String = "text/plain; version=0.0.4"),
            (String = "application/openmetrics-text; version=1.0.0")))))]
pub(crate) async fn metrics(
    State(registry): State<Arc<Registry>>,
    headers: axum::http::HeaderMap,
) -> Response {
    encoded(&registry, &headers)
}

/// `registry` in the format `headers` ask for (see [`metrics`]).
pub(crate) fn encoded(registry: &Registry, headers: &axum::http::HeaderMap) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, registry).is_err() {
        return Problem::unavailable("cannot encode the metrics").into_response();
    }
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let (content_type, body) = if openmetrics {
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            text,
        )
    } else {
        (
            "text/plain; version=0.0.4; charset=utf-8",
            prometheus_text(&text),
        )
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// OpenMetrics text made Prometheus text 0.0.4: no `# EOF` or `# UNIT`, a counter's `# HELP` and
/// `# TYPE` named as its `_total` samples are, `info` and `stateset` families as gauges.
fn prometheus_text(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in openmetrics.lines() {
        if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.strip_suffix(" counter"))
        {
            counters.insert(name.to_string());
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let name = if counters.contains(name) {
                    format!("{name}_total")
                } else {
                    name.to_string()
                };
                let tail = match tail {
                    "info" | "stateset" | "unknown" if prefix == "# TYPE " => "gauge",
                    t => t,
                };
                out.push_str(prefix);
                out.push_str(&name);
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

pub(crate) async fn not_found() -> Response {
    Problem::not_found("no such endpoint; see /openapi.json").into_response()
}

pub(crate) async fn method_not_allowed() -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not take that method; see /openapi.json",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_becomes_prometheus_text() {
        let om = "# HELP a_requests Requests.\n# TYPE a_requests counter\n\
                  a_requests_total{code=\"200\"} 3\n# HELP b Busy.\n# TYPE b gauge\n# UNIT b seconds\n\
                  b 1\n# EOF\n";
        assert_eq!(
            prometheus_text(om),
            "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\n\
             a_requests_total{code=\"200\"} 3\n# HELP b Busy.\n# TYPE b gauge\nb 1\n"
        );
    }
}
