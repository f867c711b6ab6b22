//! Extractors: the authenticated caller (`Authorization: Bearer <key>`) and JSON bodies whose
//! every rejection is a problem (415 not JSON, 413 too large, 400 malformed, 422 wrong fields).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::middleware::ClientIp;
use super::problem::{InvalidField, Problem, pointer_token};
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

/// An operator's [`Auth`]: any other key is refused with 403 before its body is read, so a
/// gifter learns it may not batch whatever it sent.
pub(crate) struct OperatorAuth(pub(crate) Caller, pub(crate) InFlight);

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Auth(caller, place) = Auth::from_request_parts(parts, state).await?;
        if caller.key.role != voucherdeck_core::domain::Role::Operator {
            return Err(Problem::forbidden(
                "batches are for operator keys; gift one at a time",
            ));
        }
        Ok(OperatorAuth(caller, place))
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
        // A struct would also parse from an array of its fields: only an object is a body.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(not_an_object(&bytes));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| refusal_of::<T>(&bytes, &e))
    }
}

fn malformed(e: &serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "Malformed JSON",
        format!("the body is not valid JSON: {e}"),
    )
}

/// A body that does not start an object: 400 if it is not JSON at all, else 422 saying so.
fn not_an_object(bytes: &[u8]) -> Problem {
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return malformed(&e);
    }
    let mut p = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-fields",
        "Invalid fields",
        "the body must be a JSON object",
    );
    p.errors = vec![InvalidField::at("", "body", "must be a JSON object")];
    p
}

/// Why an object that did not parse as `T` is refused: 400 when it is not JSON at all; else 422
/// with the field, its JSON Pointer and the rule. Read again here, on the refusal path only, to
/// learn where the parse failed.
fn refusal_of<T: DeserializeOwned>(bytes: &[u8], e: &serde_json::Error) -> Problem {
    if !e.is_data() {
        return malformed(e);
    }
    if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        // Not JSON at all, though a field went wrong before the parser saw it.
        return malformed(&syntax);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (pointer, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(err) => (pointer_of(err.path()), err.inner().to_string()),
        Ok(_) => (String::new(), e.to_string()),
    };
    let rule = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    // A missing field is named in the message, with the path at its parent.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next());
    let pointer = match missing {
        Some(f) => format!("{pointer}/{}", pointer_token(f)),
        None => pointer,
    };
    let field = match missing {
        Some(f) => f.to_string(),
        None => pointer
            .rsplit('/')
            .next()
            .filter(|last| !last.is_empty())
            .unwrap_or("body")
            .replace("~1", "/")
            .replace("~0", "~"),
    };
    let mut p = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-fields",
        "Invalid fields",
        message.clone(),
    );
    p.errors = vec![InvalidField::at(pointer, field, rule)];
    p
}

/// A serde path as a JSON Pointer (`vouchers[3].note` → `/vouchers/3/note`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&pointer_token(key));
            }
            Segment::Unknown => {}
        }
    }
    out
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Body too large",
        format!("the body may have at most {API_BODY_MAX} bytes"),
    )
}
