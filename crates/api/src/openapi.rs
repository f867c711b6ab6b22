//! The OpenAPI 3.1 document, generated from the handlers and types (`utoipa`) and from the rules
//! that validate (`fields`) and answer (`answers`), so it cannot drift from what the server does.

mod answers;
pub(crate) mod bodies;
pub(crate) mod fields;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::me::KeyView;
use super::problem::{InvalidField, Problem};
use super::state::AppState;
use super::vouchers::{
    BatchBody, BatchItem, BatchResult, BatchResults, GiftBody, Queued, VoucherView,
};
use voucherdeck_core::domain::Limits;

#[derive(OpenApi)]
#[openapi(
    info(title = "voucherdeck intake API", description = "Gift vouchers into an SQS-backed pipeline. \
        Authenticate with `Authorization: Bearer <key>`. Every error is an RFC 9457 problem \
        (`application/problem+json`) whose `type` names it; invalid fields are listed with their \
        rules. A method a path does not take is answered 405 with `Allow` \
        (`#/components/responses/MethodNotAllowed`). Idempotency keys are kept 14 days."),
    paths(
        super::vouchers::gift, super::vouchers::batch, super::vouchers::status, super::me::me,
        super::ops::healthz, super::ops::readyz, super::ops::metrics, document
    ),
    components(schemas(
        GiftBody, BatchItem, BatchBody, Queued, BatchResult, BatchResults, VoucherView, KeyView,
        Problem, InvalidField, bodies::Health, bodies::Ready, fields::AmountSchema,
        fields::BatchItemSchema
    )),
    tags(
        (name = "vouchers", description = "Gift vouchers and read their state"),
        (name = "keys", description = "The calling API key"),
        (name = "operations", description = "Liveness, readiness, metrics and this document"),
    ),
    modifiers(&Bearer)
)]
pub(crate) struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The whole document of a server whose gifts are checked against `limits`.
pub(crate) fn document_of(limits: Limits) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    if let Ok(amount) = serde_json::to_value(fields::amount(limits)) {
        doc["components"]["schemas"]["Amount"] = amount;
    }
    if let Some(params) = doc["paths"]["/v1/vouchers"]["post"]["parameters"].as_array_mut() {
        for p in params.iter_mut().filter(|p| p["name"] == "Idempotency-Key") {
            p["schema"] =
                serde_json::to_value(fields::idempotency_key_header()).unwrap_or_default();
        }
    }
    answers::complete(&mut doc);
    doc
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server (its own \
        limits included)", content_type = "application/json", body = Object)))]
pub(crate) async fn document(State(state): State<AppState>) -> Response {
    axum::Json(document_of(state.pipeline.config().limits)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::gift::{IDEMPOTENCY_KEY_MAX_CHARS, NOTE_MAX_CHARS};
    use voucherdeck_core::domain::limits::API_BATCH_MAX;
    use voucherdeck_core::domain::{Amount, GiftRequest, validate};

    fn doc() -> Value {
        document_of(Limits::default())
    }

    #[test]
    fn the_limits_are_the_domains() {
        let d = doc();
        let s = &d["components"]["schemas"];
        assert_eq!(
            s["GiftBody"]["properties"]["note"]["maxLength"],
            NOTE_MAX_CHARS
        );
        assert_eq!(
            s["BatchGift"]["properties"]["idempotency_key"]["maxLength"],
            IDEMPOTENCY_KEY_MAX_CHARS
        );
        assert_eq!(
            s["BatchBody"]["properties"]["vouchers"]["maxItems"],
            API_BATCH_MAX
        );
        assert_eq!(s["BatchBody"]["properties"]["vouchers"]["minItems"], 1);
        assert_eq!(s["Amount"]["anyOf"][1]["maximum"], 1000.0);
        let header = &d["paths"]["/v1/vouchers"]["post"]["parameters"][0];
        assert_eq!(header["name"], "Idempotency-Key");
        assert_eq!(header["schema"]["maxLength"], IDEMPOTENCY_KEY_MAX_CHARS);
        for body in ["GiftBody", "BatchGift"] {
            let required = &s[body]["required"];
            assert_eq!(
                required,
                &serde_json::json!(["recipient", "amount"]),
                "{body}"
            );
        }
    }

    #[test]
    fn the_configured_largest_amount_is_the_documents() {
        let limits = Limits {
            max_amount: Amount::from_cents(5050),
        };
        let d = document_of(limits);
        let amount = &d["components"]["schemas"]["Amount"];
        assert_eq!(amount["anyOf"][1]["maximum"], 50.5);
        assert!(
            amount["description"]
                .as_str()
                .is_some_and(|t| t.contains("50.50"))
        );
    }

    /// The document's examples of a gift are valid gifts.
    #[test]
    fn the_examples_are_valid() {
        let d = doc();
        let s = &d["components"]["schemas"];
        let example = |field: &str| s["GiftBody"]["properties"][field]["examples"][0].clone();
        let amount = s["Amount"]["examples"][0].as_str().map(String::from);
        let req = GiftRequest {
            recipient: example("recipient").as_str().unwrap_or_default().into(),
            amount: amount.unwrap_or_default(),
            currency: example("currency").as_str().map(String::from),
            sender: "acme".into(),
            note: example("note").as_str().map(String::from),
            idempotency_key: None,
        };
        assert!(validate(&req, &Limits::default()).is_ok(), "{req:?}");
    }

    #[test]
    fn problems_are_problem_json_and_tags_are_names() {
        let d = doc();
        for (path, item) in d["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operation") {
                let tag = op["tags"][0].as_str().unwrap_or_default();
                assert!(
                    ["vouchers", "keys", "operations"].contains(&tag),
                    "{method} {path}: {tag}"
                );
                for (status, r) in op["responses"].as_object().expect("responses") {
                    if status.starts_with(['4', '5']) {
                        let content = r["content"].as_object().expect("content");
                        let types: Vec<&String> = content.keys().collect();
                        assert_eq!(
                            types,
                            ["application/problem+json"],
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
