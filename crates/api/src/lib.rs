//! The HTTP intake API (`voucherdeck serve`, or in the dashboard with `--serve`): authenticated
//! senders gift vouchers through the same producer as the CLI. Handlers are thin; cross-cutting
//! work is layers (request ids, tracing, metrics, load shedding, timeouts, header and body limits,
//! the per-IP limit); connections (caps, head, write and idle timeouts, the stop deadline) are
//! `conn`'s. Servers are stateless apart from caches, so several behind a load balancer
//! behave as one.

mod conn;
mod extract;
mod forwarded;
mod keyed_limit;
mod me;
mod middleware;
mod openapi;
mod ops;
mod problem;
mod ratelimit;
mod state;
mod vouchers;
mod worker_endpoints;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use forwarded::ForwardedHeader;
pub use problem::{InvalidField, Problem};
pub use state::{ServeConfig, ServeLimits};
pub use worker_endpoints::{NOT_READY_AFTER, serve_worker_endpoints, worker_router};

use conn::ConnMetrics;
use state::AppState;
use voucherdeck_core::domain::limits::{API_BODY_MAX, API_CONCURRENCY_MAX, API_REQUEST_TIMEOUT};
use voucherdeck_pipeline::Pipeline;

/// A layer error: the request timed out, or the server is at its concurrency cap.
async fn overloaded(err: tower::BoxError) -> axum::response::Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        // A gift admitted before the timeout is still sent, indexed and audited.
        Problem::request_timed_out().into_response()
    } else {
        Problem::unavailable("the server is at capacity; try again shortly").into_response()
    }
}

/// The API's routes and layers over `pipeline`.
pub fn router(pipeline: &Pipeline, config: &ServeConfig) -> Router {
    app(pipeline, config, &ConnMetrics::default())
}

/// The routes and layers, with `/metrics` also showing the connection layer's figures.
fn app(pipeline: &Pipeline, config: &ServeConfig, connections: &ConnMetrics) -> Router {
    let state = AppState::new(pipeline.clone(), config);
    let mut registry = Registry::default();
    pipeline.intake().register(&mut registry);
    connections.register(&mut registry);
    let metrics = Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(Arc::new(registry));
    Router::new()
        .route("/v1/vouchers", post(vouchers::gift))
        .route("/v1/vouchers/batch", post(vouchers::batch))
        .route("/v1/vouchers/{id}", get(vouchers::status))
        .route("/v1/me", get(me::me))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/openapi.json", get(openapi::document))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(state.clone())
        .merge(metrics)
        .layer(DefaultBodyLimit::max(API_BODY_MAX))
        // The per-IP limit and the header limit come before (outside) the server-wide concurrency
        // limit: a flood from one address is refused without taking one of its slots.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .concurrency_limit(API_CONCURRENCY_MAX)
                .timeout(API_REQUEST_TIMEOUT),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::ip_limit,
        ))
        .layer(axum::middleware::from_fn(middleware::header_limit))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::observe,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves on `listener` until `shutdown` resolves, publishing its figures on schedule; then stops
/// accepting, finishes the requests in flight (every gift is answered only once SQS has it) for at
/// most `config.limits.shutdown_deadline` (then drops what is left, logged), flushes the audit and
/// index writes, gives back leased quota and publishes the last figures. Connections are capped
/// and timed out as `conn` says.
pub async fn serve(
    pipeline: Pipeline,
    config: &ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = ConnMetrics::default();
    let app = app(&pipeline, config, &connections);
    let every = config
        .metrics_every
        .unwrap_or_else(|| pipeline.metrics_cadence());
    let publisher = pipeline.start_intake_metrics(every);
    let trusted = Arc::new(config.trusted_proxies.clone());
    conn::run(listener, app, config.limits, trusted, connections, shutdown).await;
    pipeline.finish_producing().await;
    publisher.stop().await;
    Ok(())
}

/// A server running in this process (the dashboard's `--serve`, tests).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Binds `config.listen` and serves in a task.
    pub async fn start(pipeline: Pipeline, config: ServeConfig) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let signal = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            serve(pipeline, &config, listener, signal).await
        });
        Ok(RunningServer { addr, stop, task })
    }

    /// Where it listens (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks it to stop without waiting (see [`RunningServer::stop`]).
    pub fn begin_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops gracefully and waits until it has.
    pub async fn stop(self) -> std::io::Result<()> {
        self.begin_stop();
        self.task.await.map_err(std::io::Error::other)?
    }
}
