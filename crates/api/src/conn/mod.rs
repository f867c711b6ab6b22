//! The server's connections, served with hyper directly (axum's `serve` has no timer, so no header
//! timeout, and neither a connection cap nor a shutdown deadline):
//!
//! - a cap on open connections, and one per peer address (trusted proxies not counted); a
//!   connection over either is answered a canned 503 and closed at once, so the listen backlog
//!   never fills with connections nobody will serve (logged at most every 10 s);
//! - a head-read timeout: from accept, or from the first byte of the next head on a keep-alive
//!   connection, the whole head must arrive within `header_read_timeout` (a slow head is closed
//!   unanswered, whatever it trickles);
//! - a write timeout: an answer the client does not read (the socket's buffer full) must drain
//!   within `write_timeout` of the first write the socket could not take, or the connection is
//!   closed (a slow reader holds no connection for ever);
//! - an idle timeout between requests (hyper's header timer, which starts when a connection waits
//!   for its next head, and so also bounds every head);
//! - at most `API_HEADER_COUNT_MAX` header fields and a read buffer of twice `API_HEADERS_MAX`
//!   (hyper answers 431 past either);
//! - a graceful stop with a deadline: no new connections; connections without a request in the
//!   service (idle, or mid-head) are closed at once, the others finish their request and close; at
//!   the deadline whatever is left is logged and dropped, and `serve` goes on to flush.
//!
//! The body-read timeout and the per-key in-flight cap are per request (`extract`).

mod admission;
mod metrics;
mod watched;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::state::ServeLimits;
use admission::{Admission, RefusalLog, Slot, allowed_connections};
pub use metrics::ConnMetrics;
use metrics::{Closed, OpenConnection};
use voucherdeck_core::domain::limits::{API_HEADER_COUNT_MAX, API_HEADERS_MAX};
use watched::{Activity, Overdue, RequestInFlight, Watched};

/// What a connection over a cap is told before it is closed.
const AT_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/problem+json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 154\r\n\
\r\n\
{\"type\":\"https://voucherdeck.dev/problems/unavailable\",\"title\":\"Service unavailable\",\
\"status\":503,\"detail\":\"too many open connections; try again shortly\"}";

/// Serves `app` on `listener` until `shutdown`, then stops within `limits.shutdown_deadline`.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    trusted: Arc<Vec<IpNet>>,
    metrics: ConnMetrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let admission = Arc::new(Admission::new(
        allowed_connections(limits.max_connections),
        limits.max_connections_per_ip.max(1),
        trusted,
    ));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.keep_alive_idle)
        .max_headers(API_HEADER_COUNT_MAX)
        .max_buf_size(2 * API_HEADERS_MAX);
    let http = Arc::new(http);
    let requests = Arc::new(AtomicUsize::new(0));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut refusals = RefusalLog::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors, most likely: the connection waits in the
                        // backlog; try again shortly rather than spin.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(slot) = admission.admit(peer.ip()) else {
                    metrics.refused(refusals.refused(&admission, peer.ip()));
                    let _ = stream.try_write(AT_CAPACITY);
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(connection(Connection {
                    stream,
                    peer,
                    app: app.clone(),
                    http: Arc::clone(&http),
                    header_read_timeout: limits.header_read_timeout,
                    write_timeout: limits.write_timeout,
                    stopping: stopping.clone(),
                    requests: Arc::clone(&requests),
                    metrics: metrics.clone(),
                    _open: metrics.open(),
                    _slot: slot,
                }));
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drain(connections, &requests, limits.shutdown_deadline, &metrics).await;
}

/// Waits for the connections to finish, for at most `deadline`; then drops what is left, logged.
async fn drain(
    mut connections: JoinSet<()>,
    requests: &AtomicUsize,
    deadline: Duration,
    metrics: &ConnMetrics,
) {
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            requests = requests.load(Ordering::Relaxed),
            deadline_s = deadline.as_secs_f64(),
            "stopping: waiting for the open connections to finish"
        );
    }
    let drained = tokio::time::timeout(deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            requests = requests.load(Ordering::Relaxed),
            deadline_s = deadline.as_secs_f64(),
            "the shutdown deadline passed: closing the connections still open and dropping their \
             requests (a gift dropped before its answer may or may not be on the queue)"
        );
        metrics.closed(Closed::StopDeadline, connections.len() as u64);
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Errors of one connection that leave the listener fine (as hyper's and axum's loops treat them).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One accepted connection and what it needs.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    http: Arc<http1::Builder>,
    header_read_timeout: Duration,
    write_timeout: Duration,
    stopping: watch::Receiver<bool>,
    requests: Arc<AtomicUsize>,
    metrics: ConnMetrics,
    _open: OpenConnection,
    _slot: Slot,
}

async fn connection(c: Connection) {
    let Connection {
        stream,
        peer,
        app,
        http,
        header_read_timeout,
        write_timeout,
        mut stopping,
        requests,
        metrics,
        _open,
        _slot,
    } = c;
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let on_request = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let in_flight = RequestInFlight::start(&on_request, &requests);
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await;
            drop(in_flight);
            response
        }
    });
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let mut asked_to_stop = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            overdue = activity.overdue(header_read_timeout, write_timeout) => {
                metrics.closed(
                    match overdue {
                        Overdue::Head => Closed::HeadTimeout,
                        Overdue::Write => Closed::WriteTimeout,
                    },
                    1,
                );
                match overdue {
                    Overdue::Head => tracing::debug!(%peer, timeout_s = header_read_timeout.as_secs_f64(), "closed a connection whose request head did not arrive in time"),
                    Overdue::Write => tracing::debug!(%peer, timeout_s = write_timeout.as_secs_f64(), "closed a connection that did not read its answer in time"),
                }
                return;
            }
            _ = stopping.wait_for(|s| *s), if !asked_to_stop => {
                // Idle, or in the middle of a head: nothing was asked of the server yet, so
                // nothing is owed. Otherwise the request finishes and the connection closes
                // after its answer (`connection: close`).
                if activity.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                asked_to_stop = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canned_answer_is_what_it_says() {
        let text = std::str::from_utf8(AT_CAPACITY).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json["status"], 503);
    }
}
