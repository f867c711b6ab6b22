//! The OpenAPI 3.1 document, generated from the handlers and types (`utoipa`), so it cannot drift.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::me::KeyView;
use super::problem::{InvalidField, Problem};
use super::vouchers::{
    BatchBody, BatchItem, BatchResult, BatchResults, GiftBody, Queued, VoucherView,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "voucherdeck intake API", description = "Gift vouchers into an SQS-backed pipeline. Errors are RFC 9457 problem details."),
    paths(super::vouchers::gift, super::vouchers::batch, super::vouchers::status, super::me::me, super::ops::healthz, super::ops::readyz),
    components(schemas(GiftBody, BatchItem, BatchBody, Queued, BatchResult, BatchResults, VoucherView, KeyView, Problem, InvalidField)),
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

/// The OpenAPI 3.1 document of this API, generated from the code.
pub(crate) async fn document() -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::Json(ApiDoc::openapi()).into_response()
}
