//! The voucher endpoints: gift one, gift a batch (operators), read one's state. Thin: extract,
//! call the producer, map its typed answer to a status and a body.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Auth, JsonBody, OperatorAuth};
use super::problem::{InvalidField, Problem};
use super::ratelimit::{Policy, RateReport, report_gifts};
use super::state::AppState;
use voucherdeck_core::domain::gift::amount_text;
use voucherdeck_core::domain::limits::{API_BATCH_MAX, API_READS_PER_MINUTE};
use voucherdeck_core::domain::{GiftRequest, Role};
use voucherdeck_pipeline::{Caller, GiftError, GiftOptions, GiftReceipt, VoucherState};

/// A gift: the sender is the authenticated key's, never the body's. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiftBody {
    /// An email address or a 0x wallet address.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::openapi::fields::recipient)]
    pub recipient: String,
    /// A decimal amount, as a string ("25.00") or a number, read exactly as written.
    #[serde(default)]
    #[schema(required = true, value_type = crate::openapi::fields::AmountSchema)]
    pub amount: Option<Box<RawValue>>,
    /// ISO 4217; USD when absent.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::currency)]
    pub currency: Option<String>,
    /// A note for the recipient.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::note)]
    pub note: Option<String>,
}

/// One gift of a batch, with its own idempotency key. Its fields are [`GiftBody`]'s, spelled out:
/// a flattened body would read numbers through floating point. (Its schema is `BatchGift`: a valid
/// gift; `BatchItem` is the shape a batch's items must have, see `fields::batch_item`.)
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BatchGift)]
pub struct BatchItem {
    #[serde(default)]
    #[schema(required = true, schema_with = crate::openapi::fields::recipient)]
    pub recipient: String,
    #[serde(default)]
    #[schema(required = true, value_type = crate::openapi::fields::AmountSchema)]
    pub amount: Option<Box<RawValue>>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::currency)]
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::note)]
    pub note: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::idempotency_key)]
    pub idempotency_key: Option<String>,
}

impl BatchItem {
    fn split(self) -> (GiftBody, Option<String>) {
        let gift = GiftBody {
            recipient: self.recipient,
            amount: self.amount,
            currency: self.currency,
            note: self.note,
        };
        (gift, self.idempotency_key)
    }
}

/// A batch of gifts (see `vouchers` for how many). Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    #[schema(schema_with = crate::openapi::fields::batch_vouchers)]
    pub vouchers: Vec<BatchItem>,
}

/// An accepted gift.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Queued {
    pub voucher_id: Uuid,
    /// Always `queued`: SQS has the message.
    #[schema(pattern = "^queued$", example = "queued")]
    pub state: String,
    /// Where to read the voucher's state (`GET`), as in `Location`.
    #[schema(
        pattern = "^/v1/vouchers/[0-9a-f-]{36}$",
        example = "/v1/vouchers/01a21b65-3161-70c8-a868-a5f4e1d6a2c4"
    )]
    pub status_url: String,
}

/// One result of a batch: `status` 202 (queued; `replayed` when it is the earlier voucher of the
/// same idempotency key) or the problem's status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult {
    #[schema(schema_with = crate::openapi::fields::batch_index)]
    pub index: usize,
    #[schema(minimum = 200, maximum = 599)]
    pub status: u16,
    /// The answer of an earlier request with the same idempotency key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voucher: Option<Queued>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// One result per gift, in the request's order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResults {
    pub results: Vec<BatchResult>,
}

/// A voucher's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoucherView {
    pub voucher_id: Uuid,
    /// `queued` (on the queue), `persisted` (stored), `retrying` (a consumer failed and will retry)
    /// or `dead_lettered` (moved to the DLQ: see `reason`).
    #[schema(value_type = String, pattern = "^(queued|persisted|retrying|dead_lettered)$", example = "persisted")]
    pub state: VoucherState,
    /// Why it is retrying or dead-lettered, as the consumer recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub reason: Option<String>,
    /// When it was stored (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime, required = false)]
    pub persisted_at: Option<voucherdeck_core::domain::Timestamp>,
}

/// Set on the answer of a request whose idempotency key was used before (the first answer again).
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

fn status_url(id: Uuid) -> String {
    format!("/v1/vouchers/{id}")
}

fn queued(receipt: &GiftReceipt) -> Queued {
    Queued {
        voucher_id: receipt.voucher_id,
        state: "queued".into(),
        status_url: status_url(receipt.voucher_id),
    }
}

/// The request the producer checks; a bad amount type is refused like any invalid field.
fn request_of(
    body: GiftBody,
    key: Option<String>,
    caller: &Caller,
) -> Result<GiftRequest, Box<Problem>> {
    let amount = match body.amount.as_deref().map(amount_text) {
        None => String::new(),
        Some(Ok(text)) => text,
        Some(Err(_)) => {
            let mut p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-fields",
                "Invalid fields",
                "amount must be a string or a number",
            );
            p.errors = vec![InvalidField::at(
                "/amount",
                "amount",
                "must be a string or a number",
            )];
            return Err(Box::new(p));
        }
    };
    Ok(GiftRequest {
        recipient: body.recipient,
        amount,
        currency: body.currency,
        sender: caller.key.sender.clone(),
        note: body.note,
        idempotency_key: key,
    })
}

/// The problem for a refused gift; the key's field is named as the header it came in.
fn problem_of(e: &GiftError) -> Problem {
    let mut p = Problem::from(e);
    for f in &mut p.errors {
        if f.field == "idempotency_key" {
            f.field = "Idempotency-Key".into();
        }
    }
    p
}

/// The problem of batch item `index`: its pointers point into the batch's body, where the
/// idempotency key is a field.
fn item_problem_of(e: &GiftError, index: usize) -> Problem {
    let mut p = Problem::from(e);
    for f in &mut p.errors {
        if f.field == "idempotency_key" {
            f.pointer = Some("/idempotency_key".into());
        }
    }
    p.within(&format!("/vouchers/{index}"))
}

fn refuse_read_only_caller(state: &AppState) -> Option<Problem> {
    state
        .pipeline
        .config()
        .read_only
        .then(|| Problem::forbidden("read-only: this server refuses every change"))
}

/// Gift one voucher.
#[utoipa::path(post, path = "/v1/vouchers", tag = "vouchers", operation_id = "gift",
    request_body(content = GiftBody, content_type = "application/json",
        example = json!({"recipient": "ada@example.com", "amount": "25.00", "currency": "EUR", "note": "thanks"})),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same body answers the first answer \
            again (`Idempotent-Replayed: true`) and gifts nothing more; with another body 422; while \
            the first request with the key is still in flight 409. Kept 14 days.")),
    responses(
        (status = 202, description = "Queued: SQS has the message (or, with `Idempotent-Replayed`, \
            the first answer to this Idempotency-Key again)", body = Queued)),
    security(("bearer" = [])))]
pub(crate) async fn gift(
    State(state): State<AppState>,
    Auth(caller, _in_flight): Auth,
    report: Option<Extension<RateReport>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<GiftBody>,
) -> Response {
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) => Some(k.to_string()),
        Some(Err(_)) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-fields",
                "Invalid fields",
                "Idempotency-Key must be visible ASCII",
            )
            .into_response();
        }
    };
    let req = match request_of(body, key, &caller) {
        Ok(r) => r,
        Err(p) => return (*p).into_response(),
    };
    let meter = state.pipeline.intake().clone();
    let key = caller.key.clone();
    let opts = GiftOptions {
        bulk: false,
        caller: Some(caller),
    };
    let outcome = state.pipeline.gift(&req, opts).await;
    report_gifts(report.as_deref(), &key, &[&outcome]);
    match outcome {
        Ok(receipt) => {
            meter.accepted();
            let location = status_url(receipt.voucher_id);
            let mut answer = (
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(queued(&receipt)),
            )
                .into_response();
            if receipt.duplicate {
                answer
                    .headers_mut()
                    .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            }
            answer
        }
        Err(e) => {
            meter.refused(&e);
            problem_of(&e).into_response()
        }
    }
}

/// Gift a batch of vouchers (operator keys only); each gets its own result. The key's role is
/// checked before the body.
#[utoipa::path(post, path = "/v1/vouchers/batch", tag = "vouchers", operation_id = "gift_batch",
    request_body(content = BatchBody, content_type = "application/json",
        example = json!({"vouchers": [{"recipient": "ada@example.com", "amount": "25.00", "idempotency_key": "order-42"}]})),
    responses((status = 207, description = "One result per gift, in order", body = BatchResults)),
    security(("bearer" = [])))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    OperatorAuth(caller, _in_flight): OperatorAuth,
    report: Option<Extension<RateReport>>,
    JsonBody(body): JsonBody<BatchBody>,
) -> Response {
    if let Some(p) = refuse_read_only_caller(&state) {
        return p.into_response();
    }
    if body.vouchers.is_empty() || body.vouchers.len() > API_BATCH_MAX {
        let rule = format!("must hold 1 to {API_BATCH_MAX} gifts");
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fields",
            "Invalid fields",
            format!("vouchers {rule} (has {})", body.vouchers.len()),
        );
        p.errors = vec![InvalidField::at("/vouchers", "vouchers", rule)];
        return p.into_response();
    }
    let mut results: Vec<Option<BatchResult>> = vec![None; body.vouchers.len()];
    let mut reqs = Vec::new();
    let mut slots = Vec::new();
    for (i, item) in body.vouchers.into_iter().enumerate() {
        let (gift, key) = item.split();
        match request_of(gift, key, &caller) {
            Ok(r) => {
                reqs.push(r);
                slots.push(i);
            }
            Err(p) => results[i] = Some(problem_result(i, p.within(&format!("/vouchers/{i}")))),
        }
    }
    let meter = state.pipeline.intake().clone();
    let key = caller.key.clone();
    let opts = GiftOptions {
        bulk: false,
        caller: Some(caller),
    };
    let outcomes = state.pipeline.gift_many(&reqs, opts).await;
    report_gifts(
        report.as_deref(),
        &key,
        &outcomes.iter().collect::<Vec<_>>(),
    );
    for (i, outcome) in slots.into_iter().zip(outcomes) {
        results[i] = Some(match outcome {
            Ok(receipt) => {
                meter.accepted();
                BatchResult {
                    index: i,
                    status: 202,
                    replayed: receipt.duplicate,
                    voucher: Some(queued(&receipt)),
                    problem: None,
                }
            }
            Err(e) => {
                meter.refused(&e);
                problem_result(i, item_problem_of(&e, i))
            }
        });
    }
    let results = results.into_iter().flatten().collect();
    (StatusCode::MULTI_STATUS, Json(BatchResults { results })).into_response()
}

fn problem_result(index: usize, p: Problem) -> BatchResult {
    BatchResult {
        index,
        status: p.status,
        replayed: false,
        voucher: None,
        problem: Some(p),
    }
}

/// A voucher's state; only its sender or an operator may read it (others get 404).
#[utoipa::path(get, path = "/v1/vouchers/{id}", tag = "vouchers", operation_id = "voucher_status",
    params(("id" = String, Path, format = Uuid, description = "The voucher id (anything else is 404)")),
    responses((status = 200, description = "The voucher's state", body = VoucherView)),
    security(("bearer" = [])))]
pub(crate) async fn status(
    State(state): State<AppState>,
    Auth(caller, _in_flight): Auth,
    report: Option<Extension<RateReport>>,
    Path(id): Path<String>,
) -> Response {
    let verdict = state.read_limiter.check(&caller.key.id);
    if let (Some(report), Some(v)) = (&report, verdict) {
        let reads = Policy::per_minute("reads", v.limit, Some(v.remaining));
        report.add(match v.retry_after {
            Some(wait) => reads.spent(wait),
            None => reads,
        });
    }
    if let Some(wait) = verdict.and_then(|v| v.retry_after) {
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "reads-rate-limited",
            "Too many status reads",
            format!(
                "a key may read {API_READS_PER_MINUTE} voucher states per minute; try again in {} s",
                wait.as_secs_f64().ceil().max(1.0)
            ),
        )
        .retry_after(wait)
        .into_response();
    }
    let missing = || Problem::not_found(format!("no voucher {id} of yours")).into_response();
    let Ok(uuid) = id.parse::<Uuid>() else {
        return missing();
    };
    let reader = (caller.key.role != Role::Operator).then_some(caller.key.sender.as_str());
    match state.pipeline.voucher_status(uuid, reader).await {
        Ok(Some(s)) => Json(VoucherView {
            voucher_id: s.voucher_id,
            state: s.state,
            reason: s.reason,
            persisted_at: s.persisted_at,
        })
        .into_response(),
        Ok(_) => missing(),
        Err(e) => Problem::unavailable(format!("cannot read the voucher now: {e}")).into_response(),
    }
}
