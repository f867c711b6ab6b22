//! `GET /v1/me`: the key a request presents, as the server sees it: who its gifts are from, its
//! role and its limits. A client checks its key and learns its limits without gifting.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Auth;

/// The calling key (never its secret or hash).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct KeyView {
    /// The key's public id (`vdk_<id>_…`).
    id: String,
    /// The sender its gifts carry.
    sender: String,
    /// `gifter` (gift one at a time, read its own vouchers) or `operator` (also batches, any
    /// voucher).
    #[schema(pattern = "^(gifter|operator)$", example = "gifter")]
    role: String,
    /// Gifts a minute (a burst above it is answered 429).
    per_minute: u32,
    /// Gifts a UTC day, exact across every server.
    daily: u32,
    /// When the key was created (RFC 3339, UTC).
    #[schema(format = DateTime)]
    created_at: String,
}

/// The calling key: who its gifts are from, its role and its limits.
#[utoipa::path(get, path = "/v1/me", tag = "keys", operation_id = "me",
    responses((status = 200, description = "The calling key", body = KeyView)),
    security(("bearer" = [])))]
pub(crate) async fn me(Auth(caller, _in_flight): Auth) -> Json<KeyView> {
    let key = caller.key;
    Json(KeyView {
        id: key.id,
        sender: key.sender,
        role: key.role.to_string(),
        per_minute: key.per_minute,
        daily: key.daily,
        created_at: key.created_at.to_string(),
    })
}
