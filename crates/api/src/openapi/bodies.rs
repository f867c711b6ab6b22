//! The schemas of the bodies the operations endpoints write as plain JSON.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /healthz`: the process answers. (Described only: the handler writes the same JSON.)
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    status: Alive,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Alive {
    Ok,
}

/// `GET /readyz`: the queue and the tables answer.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
pub(crate) struct Ready {
    status: Readiness,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Readiness {
    Ready,
}
