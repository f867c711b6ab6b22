//! Extractors: the authenticated caller (`Authorization: Bearer <key>`) and JSON bodies whose
//! every rejection is a problem (415 not JSON, 413 too large, 400 malformed, 422 wrong fields).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::middleware::ClientIp;
use super::problem::{InvalidField, Problem};
use super::state::{AppState, InFlight};
use voucherdeck_core::domain::limits::API_BODY_MAX;
use voucherdeck_pipeline::{AuthError, Caller};

/// The caller behind the request's API key, and the request's place under the key's in-flight
/// cap (held until the handler returns; taken before the body is read, so a key whose bodies never
/// arrive holds at most its own cap of the server's request slots).
pub(crate) struct Auth(pub(crate) Caller, pub(crate) InFlight);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let client_ip = parts.extensions.get::<ClientIp>().map(|c| c.0);
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        let result = match presented {
            Some(key) => state.pipeline.authenticate(key).await,
            None => Err(AuthError::Missing),
        };
        match result {
            Ok(key) => {
                let Some(place) = state.key_in_flight.try_start(&key.id) else {
                    let cap = state.key_in_flight.cap();
                    tracing::info!(key = %key.id, cap, "refused a request over its key's in-flight cap");
                    return Err(Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "key-in-flight",
                        "Too many requests in flight for this key",
                        format!(
                            "this key may have at most {cap} requests in flight on one server; \
                             wait for an answer before sending more"
                        ),
                    )
                    .header(header::RETRY_AFTER, "1"));
                };
                Ok(Auth(Caller { key, client_ip }, place))
            }
            Err(AuthError::Backend(e)) => Err(Problem::unavailable(format!(
                "cannot check the API key now: {e}"
            ))),
            Err(e) => {
                tracing::info!(client_ip = ?client_ip, reason = %e, "refused a request without a valid key");
                Err(Problem::unauthorized(e.to_string()))
            }
        }
    }
}

/// A JSON body of type `T`.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Body is not JSON",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        // The whole body within the body-read timeout (not each chunk: a body sent a byte at a
        // time must not hold its request slot for the whole request timeout). Reading it is what
        // sends `100 Continue` to a client that asked, so that comes after authentication.
        let within = state.body_read_timeout;
        let read = tokio::time::timeout(within, Bytes::from_request(req, state));
        let Ok(bytes) = read.await else {
            return Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                "Body too slow",
                format!(
                    "the body did not arrive within {} s of the start of its read",
                    within.as_secs_f64()
                ),
            )
            .header(header::CONNECTION, "close"));
        };
        let bytes = bytes.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "Unreadable body",
                    e.body_text(),
                )
            }
        })?;
        if bytes.len() > API_BODY_MAX {
            return Err(too_large());
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            if e.is_data() {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-fields",
                    "Invalid fields",
                    e.to_string(),
                );
                let message = e.to_string();
                let rule = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_string();
                p.errors = vec![InvalidField {
                    field: field_of(&message),
                    rule,
                }];
                p
            } else {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-json",
                    "Malformed JSON",
                    format!("the body is not valid JSON: {e}"),
                )
            }
        })
    }
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Body too large",
        format!("the body may have at most {API_BODY_MAX} bytes"),
    )
}

/// The field a serde message names (`unknown field `x``, `missing field `y``), or `body`.
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|f| !f.is_empty() && f.len() < 64)
        .unwrap_or("body")
        .to_string()
}
