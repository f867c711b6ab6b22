//! Redrive: move DLQ messages back to their source queue or to another queue. All of them go by the
//! native message-move task where the backend has one; chosen ones (by id or body filter), or all of
//! them on an endpoint without the API, are copied then deleted: never deleted before the send
//! succeeded, at a bounded rate, with progress and cancel. Duplicates are possible; losses are not.

mod browser;
mod clock;
mod copy;
mod handle;
mod held;
mod native;
mod request;
mod transfer;

pub use handle::RedriveHandle;
pub use request::{
    RedriveFailure, RedriveMethod, RedriveProgress, RedriveRequest, RedriveScope, RedriveStatus,
};
