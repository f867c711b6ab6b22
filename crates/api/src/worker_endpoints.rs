//! `worker --listen`: a worker's own endpoints, for an orchestrator and a scraper. `/healthz`: the
//! process answers. `/readyz`: the consumer runs and its receives work (503 once every receive has
//! failed for [`NOT_READY_AFTER`], or once it stopped). `/metrics`: its figures in Prometheus text,
//! named and negotiated like `serve`'s. Served on `serve`'s connection layer: the same head, write
//! and idle timeouts and connection caps, and its connection figures in `/metrics`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::net::TcpListener;

use super::conn::{self, ConnMetrics};
use super::ops;
use super::problem::Problem;
use super::state::ServeLimits;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_pipeline::{ConsumerSnapshot, ConsumerWatch};

/// How long every receive may fail before the worker says it is not ready.
pub const NOT_READY_AFTER: Duration = Duration::from_secs(30);

/// The worker's figures as Prometheus metrics, brought up to date at each scrape.
#[derive(Debug, Default)]
struct Figures {
    received: Counter,
    persisted: Counter,
    failed: Counter,
    dead_lettered: Counter,
    in_flight: Gauge,
    concurrency: Gauge,
    paused: Gauge,
    receive_failing: Gauge,
}

impl Figures {
    fn register(&self, r: &mut Registry) {
        let counters = [
            (
                "voucherdeck_worker_messages_received",
                "Messages received",
                &self.received,
            ),
            (
                "voucherdeck_worker_vouchers_persisted",
                "Vouchers stored (or found stored)",
                &self.persisted,
            ),
            (
                "voucherdeck_worker_failures",
                "Failures recorded (permanent or retryable)",
                &self.failed,
            ),
            (
                "voucherdeck_worker_dead_lettered",
                "Poison messages this worker sent to the DLQ",
                &self.dead_lettered,
            ),
        ];
        for (name, help, c) in counters {
            r.register(name, help, c.clone());
        }
        let gauges = [
            (
                "voucherdeck_worker_in_flight_messages",
                "Messages being processed",
                &self.in_flight,
            ),
            (
                "voucherdeck_worker_concurrency",
                "Receive loops running",
                &self.concurrency,
            ),
            (
                "voucherdeck_worker_paused",
                "1 while the worker is paused",
                &self.paused,
            ),
            (
                "voucherdeck_worker_receive_failing_seconds",
                "How long every receive has failed (0: the last worked)",
                &self.receive_failing,
            ),
        ];
        for (name, help, g) in gauges {
            r.register(name, help, g.clone());
        }
    }

    fn sync(&self, s: &ConsumerSnapshot, now: Timestamp) {
        let totals = [
            (&self.received, s.totals.received),
            (&self.persisted, s.totals.persisted),
            (&self.failed, s.totals.failed),
            (&self.dead_lettered, s.totals.dead_lettered),
        ];
        for (c, total) in totals {
            c.inc_by(total.saturating_sub(c.get()));
        }
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.in_flight.set(gauge(s.in_flight));
        self.concurrency.set(gauge(s.concurrency));
        self.paused.set(i64::from(s.paused));
        let failing = s
            .receive_failing_since
            .map_or(0, |t| t.until(now).as_secs());
        self.receive_failing
            .set(i64::try_from(failing).unwrap_or(i64::MAX));
    }
}

struct Endpoints {
    watch: ConsumerWatch,
    figures: Figures,
    registry: Registry,
}

/// Serves the worker's endpoints on `listener` until `shutdown`.
pub async fn serve_worker_endpoints(
    listener: TcpListener,
    watch: ConsumerWatch,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let connections = ConnMetrics::default();
    let app = endpoints(watch, &connections);
    let limits = ServeLimits::default();
    conn::run(listener, app, limits, Arc::default(), connections, shutdown).await;
}

/// The worker's endpoints over `watch`.
pub fn worker_router(watch: ConsumerWatch) -> Router {
    endpoints(watch, &ConnMetrics::default())
}

fn endpoints(watch: ConsumerWatch, connections: &ConnMetrics) -> Router {
    let figures = Figures::default();
    let mut registry = Registry::default();
    figures.register(&mut registry);
    connections.register(&mut registry);
    let state = Arc::new(Endpoints {
        watch,
        figures,
        registry,
    });
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(ops::not_found)
        .with_state(state)
}

/// Why the worker is not ready, if it is not.
fn not_ready(s: &ConsumerSnapshot, now: Timestamp) -> Option<String> {
    if s.stopped {
        return Some("the consumer has stopped".into());
    }
    let since = s.receive_failing_since?;
    let failing = since.until(now);
    (failing >= NOT_READY_AFTER)
        .then(|| format!("every receive has failed for {} s", failing.as_secs()))
}

async fn readyz(State(e): State<Arc<Endpoints>>) -> Response {
    let s = e.watch.snapshot();
    match not_ready(&s, Timestamp::now()) {
        None => axum::Json(json!({"status": "ready", "paused": s.paused})).into_response(),
        Some(why) => Problem::unavailable(format!("not ready: {why}")).into_response(),
    }
}

async fn metrics(State(e): State<Arc<Endpoints>>, headers: HeaderMap) -> Response {
    e.figures.sync(&e.watch.snapshot(), Timestamp::now());
    ops::encoded(&e.registry, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(stopped: bool, failing_for: Option<i64>) -> ConsumerSnapshot {
        ConsumerSnapshot {
            paused: false,
            stopped,
            concurrency: 4,
            in_flight: 0,
            totals: voucherdeck_core::ports::ConsumerStats::default(),
            p50_ms: None,
            p99_ms: None,
            receive_failing_since: failing_for.map(|s| Timestamp(100_000 - s * 1000)),
        }
    }

    #[test]
    fn ready_until_receives_fail_for_long_or_the_consumer_stops() {
        let now = Timestamp(100_000);
        assert_eq!(not_ready(&snapshot(false, None), now), None);
        assert_eq!(not_ready(&snapshot(false, Some(29)), now), None);
        let why = not_ready(&snapshot(false, Some(30)), now).expect("not ready");
        assert!(why.contains("30 s"), "{why}");
        assert!(not_ready(&snapshot(true, None), now).is_some());
    }
}
