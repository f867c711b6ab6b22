//! RFC 9457 problem details: every error the API answers is `application/problem+json` with
//! `type`, `title`, `status`, `detail` and, for invalid fields, each field with its rule (the same
//! words as the CLI and the dashboard's form).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use voucherdeck_core::domain::limits::API_REQUEST_TIMEOUT;
use voucherdeck_core::domain::{Field, ValidationErrors};
use voucherdeck_pipeline::GiftError;

/// Where the problem types are described (the README's API section).
const TYPE_BASE: &str = "https://voucherdeck.dev/problems/";

/// What a client does when a gift's outcome is unknown.
pub(crate) const RETRY_WITH_THE_KEY: &str = "retry with the same Idempotency-Key: if the voucher \
    was queued, the retry answers it (202, `Idempotent-Replayed: true`) and gifts nothing more; a retry without a key may gift twice";

/// One invalid field and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvalidField {
    /// The field (`recipient`, `amount`, …) or header (`Idempotency-Key`).
    #[schema(example = "amount")]
    pub field: String,
    /// The rule, in words.
    #[schema(example = "may have at most 2 decimals")]
    pub rule: String,
    /// Where in the body (RFC 6901 JSON Pointer: `/amount`, `/vouchers/3/note`, `` for the whole
    /// body); absent for a header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl InvalidField {
    /// A field of the body at `pointer`.
    pub fn at(
        pointer: impl Into<String>,
        field: impl Into<String>,
        rule: impl Into<String>,
    ) -> Self {
        InvalidField {
            field: field.into(),
            rule: rule.into(),
            pointer: Some(pointer.into()),
        }
    }
}

/// `token` escaped for a JSON Pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A problem details object (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// What went wrong, as a URI whose last segment names it (`invalid-fields`,
    /// `rate-limited`, `outcome-unknown`, …).
    #[serde(rename = "type")]
    #[schema(example = "https://voucherdeck.dev/problems/invalid-fields")]
    pub kind: String,
    pub title: String,
    /// The answer's status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// For `invalid-fields`: every field with the rule it broke.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<InvalidField>,
    #[serde(skip)]
    #[schema(ignore)]
    headers: Vec<(HeaderName, String)>,
}

impl Problem {
    /// A problem of type `slug` (`…/problems/<slug>`) answered with `status`.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    #[must_use]
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// With `Retry-After` (whole seconds, at least 1); the policy that was spent is reported in
    /// the `RateLimit` headers (see `ratelimit`).
    #[must_use]
    pub fn retry_after(self, wait: Duration) -> Self {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        self.header(header::RETRY_AFTER, secs.to_string())
    }

    pub fn invalid(errors: &ValidationErrors) -> Self {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fields",
            "Invalid fields",
            errors.to_string(),
        );
        p.errors = errors
            .0
            .iter()
            .map(|e| {
                let name = e.field.name();
                let in_body = !matches!(e.field, Field::IdempotencyKey | Field::Sender);
                InvalidField {
                    field: name.to_string(),
                    rule: e.rule.clone(),
                    pointer: in_body.then(|| format!("/{name}")),
                }
            })
            .collect();
        p
    }

    /// The problem of a part of the body at `prefix` (a batch item's `/vouchers/3`): its
    /// pointers are made pointers into the whole body.
    #[must_use]
    pub fn within(mut self, prefix: &str) -> Self {
        for f in &mut self.errors {
            if let Some(p) = &mut f.pointer {
                *p = format!("{prefix}{p}");
            }
        }
        self
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Not authenticated",
            detail,
        )
        .header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// A 503 for a gift that may be queued: `why`, then what to do ([`RETRY_WITH_THE_KEY`]).
    pub fn outcome_unknown(why: &str) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "outcome-unknown",
            "Outcome unknown",
            format!("{why}; {RETRY_WITH_THE_KEY}"),
        )
        .header(header::RETRY_AFTER, "1")
    }

    /// The answer to a request that passed `API_REQUEST_TIMEOUT`: a gift it carried may be queued
    /// (an admitted gift still finishes).
    pub fn request_timed_out() -> Self {
        Problem::outcome_unknown(&format!(
            "the request took longer than {} s and its outcome is unknown: a gift may be queued",
            API_REQUEST_TIMEOUT.as_secs()
        ))
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
        .header(header::RETRY_AFTER, "1")
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<&GiftError> for Problem {
    fn from(e: &GiftError) -> Self {
        let detail = e.to_string();
        match e {
            GiftError::Invalid(errors) => Problem::invalid(errors),
            GiftError::RateLimited { retry_after, .. } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many gifts",
                detail,
            )
            .retry_after(*retry_after),
            GiftError::DailyCap { retry_at, .. } => {
                let wait_ms =
                    retry_at.millis() - voucherdeck_core::domain::Timestamp::now().millis();
                let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "daily-cap",
                    "Daily cap reached",
                    detail,
                )
                .retry_after(wait)
            }
            GiftError::KeyReused { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                detail,
            ),
            GiftError::KeyInFlight { .. } => Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-in-flight",
                "Idempotency key in flight",
                detail,
            )
            .header(header::RETRY_AFTER, "1"),
            GiftError::ReadOnly => Problem::forbidden(detail),
            GiftError::Backend(_) => Problem::unavailable(format!("{detail}; try again")),
            GiftError::Unknown(_) => Problem::outcome_unknown(&detail),
            GiftError::Rejected(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "queue-refused",
                "Refused by the queue",
                detail,
            ),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name.clone(), v);
            }
        }
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, headers, body).into_response()
    }
}
