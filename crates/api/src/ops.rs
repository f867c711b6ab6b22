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

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "The server's figures: Prometheus text format 0.0.4, or \
        OpenMetrics 1.0.0 when asked for with `Accept: application/openmetrics-text`",
        content(
            (String = "text/plain; version=0.0.4"),
            (String = "application/openmetrics-text; version=1.0.0")))))]
pub(crate) async fn metrics(State(registry): State<Arc<Registry>>) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
        return Problem::unavailable("cannot encode the metrics").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
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
