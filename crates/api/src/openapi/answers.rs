//! What the answers carry besides their success bodies: the problems each operation can answer
//! (RFC 9457, `application/problem+json`, their examples made by the server's own constructors)
//! and the headers of every answer (request id, rate limits, `Retry-After`, `WWW-Authenticate`),
//! each stated once here as the layers that send them are.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use voucherdeck_core::domain::limits::{
    API_BODY_MAX, API_BODY_READ_TIMEOUT, API_HEADERS_MAX, API_KEY_IN_FLIGHT_MAX,
};
use voucherdeck_core::domain::{Field, FieldError, ValidationErrors};
use voucherdeck_pipeline::AuthError;

use crate::problem::Problem;

/// The problem statuses of an operation, by its path and method.
fn problem_statuses(path: &str, method: &str) -> &'static [u16] {
    match (path, method) {
        ("/v1/vouchers", "post") => &[400, 401, 403, 408, 409, 413, 415, 422, 429, 431, 500, 503],
        ("/v1/vouchers/batch", "post") => &[400, 401, 403, 408, 413, 415, 422, 429, 431, 503],
        ("/v1/vouchers/{id}", "get") => &[401, 404, 429, 431, 503],
        ("/v1/me", "get") => &[401, 429, 431, 503],
        // Every route is behind the per-IP limit, the header limit and the server's capacity.
        _ => &[429, 431, 503],
    }
}

/// An example problem of type `slug`.
fn example(slug: &'static str, status: u16, title: &str, detail: &str) -> (&'static str, Problem) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (slug, Problem::new(status, slug, title, detail))
}

/// What a problem status means.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "The body is not JSON (malformed, or not an object)",
        401 => "No key, or one that is unknown or revoked",
        403 => "The key may not do this (a gifter batching), or the server is read-only",
        404 => "No such voucher of the caller's (an operator sees every voucher)",
        408 => "The body did not arrive in time; the connection is closed",
        409 => "A request with this Idempotency-Key is still in flight: retry once it is answered",
        413 => "The body is too large",
        415 => "The body is not declared JSON",
        422 => {
            "Invalid fields (each named with its rule), a body that is not an object, or an \
             Idempotency-Key reused with another body"
        }
        429 => {
            "Over a limit: the key's burst or daily cap, its requests in flight, its status reads, \
             or the client address's requests; nothing was done"
        }
        431 => "The request's headers are too large",
        500 => "SQS refused the message itself: nothing was queued, and retrying will not help",
        _ => {
            "Unavailable (nothing was done: retry after Retry-After), or `outcome-unknown`: the \
             gift may be queued, retry with the same Idempotency-Key"
        }
    }
}

/// Examples of the problems of a request the server will not take (400 to 415).
fn request_examples(status: u16) -> Vec<(&'static str, Problem)> {
    match status {
        400 => vec![example(
            "malformed-json",
            400,
            "Malformed JSON",
            "the body is not valid JSON: EOF while parsing an object at line 1 column 1",
        )],
        401 => vec![(
            "unauthorized",
            Problem::unauthorized(AuthError::Missing.to_string()),
        )],
        403 => vec![(
            "forbidden",
            Problem::forbidden("batches are for operator keys; gift one at a time"),
        )],
        404 => vec![(
            "not-found",
            Problem::not_found("no voucher 01a21b65-3161-70c8-a868-a5f4e1d6a2c4 of yours"),
        )],
        408 => vec![example(
            "body-timeout",
            408,
            "Body too slow",
            &format!(
                "the body did not arrive within {} s of the start of its read",
                API_BODY_READ_TIMEOUT.as_secs()
            ),
        )],
        409 => vec![example(
            "idempotency-key-in-flight",
            409,
            "Idempotency key in use",
            "a request with this Idempotency-Key is still in flight; retry once it is answered",
        )],
        413 => vec![example(
            "body-too-large",
            413,
            "Body too large",
            &format!("the body may have at most {API_BODY_MAX} bytes"),
        )],
        _ => vec![example(
            "unsupported-media-type",
            415,
            "Body is not JSON",
            "send the body as JSON with `Content-Type: application/json`",
        )],
    }
}

/// Examples of the problems of a request the server took and refused (422 and up).
fn refusal_examples(status: u16) -> Vec<(&'static str, Problem)> {
    let invalid = ValidationErrors(vec![FieldError {
        field: Field::Amount,
        rule: "may have at most 2 decimals".into(),
    }]);
    match status {
        422 => vec![
            ("invalid-fields", Problem::invalid(&invalid)),
            example(
                "idempotency-key-reused",
                422,
                "Idempotency key reused",
                "Idempotency-Key order-42 was used for another gift",
            ),
        ],
        429 => vec![
            example(
                "rate-limited",
                429,
                "Too many gifts",
                "this key may gift 60 a minute; try again in 1 s",
            ),
            example(
                "key-in-flight",
                429,
                "Too many requests in flight for this key",
                &format!(
                    "this key may have at most {API_KEY_IN_FLIGHT_MAX} requests in flight on one \
                     server; wait for an answer before sending more"
                ),
            ),
        ],
        431 => vec![example(
            "headers-too-large",
            431,
            "Request headers too large",
            &format!("the request's headers are 9000 bytes; at most {API_HEADERS_MAX} are read"),
        )],
        500 => vec![example(
            "queue-refused",
            500,
            "Refused by the queue",
            "SQS refused the message",
        )],
        _ => vec![
            (
                "unavailable",
                Problem::unavailable("the server is at capacity; try again shortly"),
            ),
            ("outcome-unknown", Problem::request_timed_out()),
        ],
    }
}

/// A problem answer of `status`.
fn problem_response(status: u16) -> Value {
    let kinds = if status < 422 {
        request_examples(status)
    } else {
        refusal_examples(status)
    };
    let examples: Map<String, Value> = kinds
        .into_iter()
        .map(|(name, p)| {
            let value = serde_json::to_value(&p).unwrap_or(Value::Null);
            (name.to_string(), json!({ "value": value }))
        })
        .collect();
    json!({
        "description": meaning(status),
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" },
            "examples": examples,
        }},
    })
}

/// The headers every answer, or some, carry (see `complete`).
fn header(name: &str) -> Value {
    let (description, schema, example) = match name {
        "X-Request-Id" => (
            "The request's id (the client's own `X-Request-Id` when it sent one), as in the server's logs",
            json!({"type": "string"}),
            json!("8d1c1e0b-6f0e-4f55-9c36-2f0d5b9a1a57"),
        ),
        "RateLimit-Policy" => (
            "The limits that applied to the request (IETF draft httpapi-ratelimit-headers): the \
             client address's requests a minute (`ip`), for gifts the key's burst a minute \
             (`burst`) and daily cap (`daily`), for status reads the key's reads a minute \
             (`reads`); absent when none applied",
            json!({"type": "string"}),
            json!(r#""burst";q=60;w=60, "daily";q=1000;w=86400, "ip";q=1200;w=60"#),
        ),
        "RateLimit" => (
            "What is left of the limit nearest to exhaustion (`r`) and the seconds until it is \
             whole again (`t`), among those whose remainder the server knows",
            json!({"type": "string"}),
            json!(r#""burst";r=59;t=1"#),
        ),
        "Retry-After" => (
            "Seconds to wait before retrying",
            json!({"type": "integer", "minimum": 0}),
            json!(1),
        ),
        "WWW-Authenticate" => (
            "How to authenticate: a bearer key",
            json!({"type": "string", "pattern": "^Bearer"}),
            json!("Bearer"),
        ),
        "Location" => (
            "The voucher's state (`status_url`)",
            json!({"type": "string", "pattern": "^/v1/vouchers/[0-9a-f-]{36}$"}),
            json!("/v1/vouchers/01a21b65-3161-70c8-a868-a5f4e1d6a2c4"),
        ),
        "Idempotent-Replayed" => (
            "`true` on the answer to a repeated Idempotency-Key with the same body: the first \
             answer again, nothing more gifted",
            json!({"type": "string", "enum": ["true"]}),
            json!("true"),
        ),
        _ => (
            "The methods the path takes",
            json!({"type": "string"}),
            json!("GET"),
        ),
    };
    let required = !matches!(
        name,
        "Idempotent-Replayed" | "RateLimit-Policy" | "RateLimit"
    );
    json!({"description": description, "required": required, "schema": schema, "example": example})
}

/// The headers of an answer of `status` from an operation at `path`.
fn headers_of(path: &str, status: &str, authenticated: bool) -> Vec<&'static str> {
    let mut names = vec!["X-Request-Id"];
    // 431 is answered before anything else is looked at.
    if authenticated && status != "431" {
        names.extend(["RateLimit-Policy", "RateLimit"]);
    }
    match status {
        "429" | "503" => names.push("Retry-After"),
        "409" if path == "/v1/vouchers" => names.push("Retry-After"),
        "401" => names.push("WWW-Authenticate"),
        "202" if path == "/v1/vouchers" => names.extend(["Location", "Idempotent-Replayed"]),
        _ => {}
    }
    names
}

/// Adds to `doc` (an OpenAPI document as JSON) each operation's problem answers and every
/// answer's headers, and the `405` answered to a method a path does not take.
pub(crate) fn complete(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                complete_operation(path, method, op);
            }
        }
    }
    let responses = &mut doc["components"]["responses"];
    responses["MethodNotAllowed"] = json!({
        "description": "The path does not take this method (any path, any other method)",
        "headers": { "Allow": header("Allow"), "X-Request-Id": header("X-Request-Id") },
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" },
        }},
    });
}

fn complete_operation(path: &str, method: &str, op: &mut Value) {
    let authenticated = op.get("security").is_some();
    let responses = &mut op["responses"];
    for status in problem_statuses(path, method) {
        let key = status.to_string();
        if responses.get(&key).is_none() {
            responses[key] = problem_response(*status);
        }
    }
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let headers: Map<String, Value> = headers_of(path, status, authenticated)
            .into_iter()
            .map(|name| (name.to_string(), header(name)))
            .collect();
        response["headers"] = Value::Object(headers);
    }
}
