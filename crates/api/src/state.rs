//! What every handler shares: the services, the server's settings, its per-IP limiter and the
//! readiness cache.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::IpNet;
use tokio::time::Instant;

use super::forwarded::{self, ForwardedHeader};
use super::keyed_limit::KeyedLimiter;
use voucherdeck_core::domain::limits::{self, API_READS_PER_MINUTE, READY_CACHE_TTL};
use voucherdeck_pipeline::Pipeline;

/// How a server runs. `ServeConfig::default()` listens on 127.0.0.1:8080 with the limits of
/// `voucherdeck_core::domain::limits`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Proxies whose forwarding header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The header those proxies write (only it is read).
    pub forwarded_header: ForwardedHeader,
    /// Requests per minute per client IP (0: no limit).
    pub per_ip_per_minute: u32,
    /// How often the server publishes its figures to CloudWatch (`None`: the pipeline's cadence,
    /// a minute on AWS).
    pub metrics_every: Option<std::time::Duration>,
    /// Connection and request limits, timeouts and the shutdown deadline.
    pub limits: ServeLimits,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            per_ip_per_minute: limits::PER_IP_PER_MINUTE,
            metrics_every: None,
            limits: ServeLimits::default(),
        }
    }
}

/// What one server holds for its clients, and for how long. The defaults are the constants of
/// `voucherdeck_core::domain::limits`; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// From accept (or a head's first byte) to the end of the head.
    pub header_read_timeout: Duration,
    /// From the start of a body's read to its end (the whole body, not each chunk).
    pub body_read_timeout: Duration,
    /// From the first write the socket could not take until the answer is fully sent (a client
    /// that does not read its answers).
    pub write_timeout: Duration,
    /// Between two requests on a keep-alive connection.
    pub keep_alive_idle: Duration,
    /// Open connections (lowered at start to what the open-file limit allows).
    pub max_connections: usize,
    /// Open connections per peer address (trusted proxies not counted).
    pub max_connections_per_ip: usize,
    /// Requests one API key has in flight at once.
    pub key_in_flight: usize,
    /// How long a stop waits for the connections to finish.
    pub shutdown_deadline: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: limits::API_HEADER_READ_TIMEOUT,
            body_read_timeout: limits::API_BODY_READ_TIMEOUT,
            write_timeout: limits::API_WRITE_TIMEOUT,
            keep_alive_idle: limits::API_KEEP_ALIVE_IDLE,
            max_connections: limits::API_CONNECTIONS_MAX,
            max_connections_per_ip: limits::API_CONNECTIONS_PER_IP_MAX,
            key_in_flight: limits::API_KEY_IN_FLIGHT_MAX,
            shutdown_deadline: limits::API_SHUTDOWN_DEADLINE,
        }
    }
}

/// A readiness answer and when it was found.
type Readiness = (Instant, Result<(), String>);

/// The state of one server, shared by every request (one reference count to clone: extractors and
/// middlewares clone it several times per request).
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub(crate) struct Shared {
    pub(crate) pipeline: Pipeline,
    pub(crate) trusted: Arc<Vec<IpNet>>,
    pub(crate) forwarded_header: ForwardedHeader,
    pub(crate) ip_limiter: Arc<KeyedLimiter<IpAddr>>,
    /// Status reads per minute per API key id.
    pub(crate) read_limiter: Arc<KeyedLimiter<String>>,
    pub(crate) body_read_timeout: Duration,
    pub(crate) key_in_flight: Arc<KeyInFlight>,
    ready: Arc<Mutex<Option<Readiness>>>,
}

impl AppState {
    pub(crate) fn new(pipeline: Pipeline, config: &ServeConfig) -> Self {
        AppState(Arc::new(Shared {
            pipeline,
            trusted: Arc::new(config.trusted_proxies.clone()),
            forwarded_header: config.forwarded_header,
            ip_limiter: Arc::new(KeyedLimiter::new(config.per_ip_per_minute)),
            read_limiter: Arc::new(KeyedLimiter::new(API_READS_PER_MINUTE)),
            body_read_timeout: config.limits.body_read_timeout,
            key_in_flight: Arc::new(KeyInFlight::new(config.limits.key_in_flight)),
            ready: Arc::default(),
        }))
    }

    /// The client's address: the socket's peer, or, when the peer is a trusted proxy, what the
    /// forwarding header's lines say (see `forwarded`).
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        forwarded::client_ip(
            peer,
            &self.trusted,
            self.forwarded_header,
            headers
                .get_all(self.forwarded_header.name())
                .iter()
                .map(http::HeaderValue::as_bytes),
        )
    }

    /// The last readiness answer if it is recent enough.
    pub(crate) fn cached_ready(&self) -> Option<Result<(), String>> {
        let guard = self.ready.lock().unwrap_or_else(PoisonError::into_inner);
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < READY_CACHE_TTL)
            .map(|(_, r)| r.clone())
    }

    pub(crate) fn remember_ready(&self, result: Result<(), String>) {
        *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), result));
    }
}

/// Requests in flight per API key on this server; a key holds an entry only while it has some.
pub(crate) struct KeyInFlight {
    cap: usize,
    counts: Mutex<HashMap<String, usize>>,
}

/// One request's place under its key's cap, given back on drop.
pub(crate) struct InFlight {
    of: Arc<KeyInFlight>,
    key: String,
}

impl KeyInFlight {
    fn new(cap: usize) -> Self {
        KeyInFlight {
            cap: cap.max(1),
            counts: Mutex::default(),
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// A place for one more request of `key`, or `None` when it has `cap` in flight.
    pub(crate) fn try_start(self: &Arc<Self>, key: &str) -> Option<InFlight> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(key.to_string()).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(InFlight {
            of: Arc::clone(self),
            key: key.to_string(),
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut counts = self
            .of
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::backend::Names;
    use voucherdeck_embedded::Embedded;
    use voucherdeck_pipeline::PipelineConfig;

    #[tokio::test]
    async fn forwarded_for_only_from_trusted_proxies() {
        let e = Embedded::new(Names::default());
        let config = ServeConfig {
            trusted_proxies: vec!["10.0.0.0/8".parse().expect("net")],
            ..ServeConfig::default()
        };
        let s = AppState::new(Pipeline::new(e.backend, PipelineConfig::default()), &config);
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let mut headers = http::HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6".parse().expect("value"));
        headers.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7:4711, 10.1.1.1"
                .parse()
                .expect("value"),
        );
        assert_eq!(s.client_ip(ip("10.0.0.2"), &headers), ip("198.51.100.7"));
        assert_eq!(s.client_ip(ip("192.0.2.1"), &headers), ip("192.0.2.1"));
        let none = http::HeaderMap::new();
        assert_eq!(s.client_ip(ip("10.0.0.2"), &none), ip("10.0.0.2"));
    }

    #[test]
    fn key_in_flight_is_capped_and_forgotten() {
        let f = Arc::new(KeyInFlight::new(2));
        let a = f.try_start("k").expect("first");
        let b = f.try_start("k").expect("second");
        assert!(f.try_start("k").is_none(), "third over the cap");
        assert!(f.try_start("other").is_some(), "another key has its own");
        drop(a);
        assert!(f.try_start("k").is_some());
        drop(b);
        assert!(
            f.counts.lock().expect("lock").is_empty(),
            "idle keys are forgotten"
        );
    }
}
