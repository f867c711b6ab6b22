//! What every handler shares: the services, the server's settings, its per-IP limiter and the
//! readiness cache.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use ipnet::IpNet;
use tokio::time::Instant;

use super::keyed_limit::KeyedLimiter;
use voucherdeck_core::domain::limits::{API_READS_PER_MINUTE, READY_CACHE_TTL};
use voucherdeck_pipeline::Pipeline;

/// How a server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Requests per minute per client IP (0: no limit).
    pub per_ip_per_minute: u32,
    /// How often the server publishes its figures to CloudWatch (`None`: the pipeline's cadence,
    /// a minute on AWS).
    pub metrics_every: Option<std::time::Duration>,
}

/// A readiness answer and when it was found.
type Readiness = (Instant, Result<(), String>);

/// The state of one server.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) pipeline: Pipeline,
    pub(crate) trusted: Arc<Vec<IpNet>>,
    pub(crate) ip_limiter: Arc<KeyedLimiter<IpAddr>>,
    /// Status reads per minute per API key id.
    pub(crate) read_limiter: Arc<KeyedLimiter<String>>,
    ready: Arc<Mutex<Option<Readiness>>>,
}

impl AppState {
    pub(crate) fn new(pipeline: Pipeline, config: &ServeConfig) -> Self {
        AppState {
            pipeline,
            trusted: Arc::new(config.trusted_proxies.clone()),
            ip_limiter: Arc::new(KeyedLimiter::new(config.per_ip_per_minute)),
            read_limiter: Arc::new(KeyedLimiter::new(API_READS_PER_MINUTE)),
            ready: Arc::default(),
        }
    }

    /// The client's address: the socket's peer, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one.
    pub(crate) fn client_ip(&self, peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
        if !self.trusted.iter().any(|n| n.contains(&peer)) {
            return peer;
        }
        let Some(list) = forwarded else {
            return peer;
        };
        for hop in list.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                return peer;
            };
            if !self.trusted.iter().any(|n| n.contains(&ip)) {
                return ip;
            }
        }
        peer
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
            listen: "127.0.0.1:0".parse().expect("addr"),
            trusted_proxies: vec!["10.0.0.0/8".parse().expect("net")],
            per_ip_per_minute: 0,
            metrics_every: None,
        };
        let s = AppState::new(Pipeline::new(e.backend, PipelineConfig::default()), &config);
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let chain = Some("203.0.113.9, 198.51.100.7, 10.1.1.1");
        assert_eq!(s.client_ip(ip("10.0.0.2"), chain), ip("198.51.100.7"));
        assert_eq!(s.client_ip(ip("192.0.2.1"), chain), ip("192.0.2.1"));
        assert_eq!(s.client_ip(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(s.client_ip(ip("10.0.0.2"), Some("junk")), ip("10.0.0.2"));
    }
}
