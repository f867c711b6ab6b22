//! Who may hold a connection: the cap on open connections (lowered to the open-file limit) and
//! the cap per peer address, and the rate-limited log of refusals.

use super::metrics::Cap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::IpNet;
use tokio::time::Instant;

/// File descriptors kept free of connections (the AWS clients' connections, files, the listener).
pub(super) const FD_RESERVE: usize = 128;
/// How often a refused connection is logged at most.
pub(super) const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// The connection cap, lowered to what the process's open-file limit leaves (two connections
/// short of the limit, `accept` fails and every client waits).
pub(super) fn allowed_connections(wanted: usize) -> usize {
    let wanted = wanted.max(1);
    let Some(soft) = open_file_limit() else {
        return wanted;
    };
    let room = soft.saturating_sub(FD_RESERVE).max(16);
    if room < wanted {
        tracing::warn!(
            open_file_limit = soft,
            connections = room,
            wanted,
            "the open-file limit is low: fewer connections are served (raise `ulimit -n`)"
        );
        room
    } else {
        wanted
    }
}

/// The soft `RLIMIT_NOFILE`, where `/proc` tells it (Linux).
pub(super) fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The open connections, in all and per peer address.
pub(super) struct Admission {
    max: usize,
    max_per_ip: usize,
    trusted: Arc<Vec<IpNet>>,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One connection's place, given back on drop.
pub(super) struct Slot {
    of: Arc<Admission>,
    ip: Option<IpAddr>,
}

impl Admission {
    pub(super) fn new(max: usize, max_per_ip: usize, trusted: Arc<Vec<IpNet>>) -> Self {
        Admission {
            max,
            max_per_ip,
            trusted,
            open: Mutex::default(),
        }
    }

    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let peer = canonical(peer);
        let counted = !self.trusted.iter().any(|n| n.contains(&peer));
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.0 >= self.max {
            return None;
        }
        if counted {
            let n = open.1.entry(peer).or_insert(0);
            if *n >= self.max_per_ip {
                return None;
            }
            *n += 1;
        }
        open.0 += 1;
        Some(Slot {
            of: Arc::clone(self),
            ip: counted.then_some(peer),
        })
    }

    pub(super) fn counts(&self, peer: IpAddr) -> (usize, usize) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        (open.0, open.1.get(&canonical(peer)).copied().unwrap_or(0))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.0 -= 1;
        if let Some(ip) = self.ip
            && let Some(n) = open.1.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&ip);
            }
        }
    }
}

pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Refused connections, logged at most every `REFUSAL_LOG_EVERY`.
#[derive(Default)]
pub(super) struct RefusalLog {
    last: Option<Instant>,
    since: u64,
}

impl RefusalLog {
    /// Counts a refused connection (logging now and then); returns which cap refused it.
    pub(super) fn refused(&mut self, admission: &Admission, peer: IpAddr) -> Cap {
        self.since += 1;
        let (open, from_peer) = admission.counts(peer);
        let which = if open >= admission.max {
            Cap::Server
        } else {
            Cap::PerAddress
        };
        if self.last.is_some_and(|t| t.elapsed() < REFUSAL_LOG_EVERY) {
            return which;
        }
        let cap = match which {
            Cap::Server => "the server's connection cap",
            Cap::PerAddress => "the per-address connection cap",
        };
        tracing::warn!(
            cap,
            refused = self.since,
            open,
            max = admission.max,
            %peer,
            from_peer,
            max_per_ip = admission.max_per_ip,
            "refusing connections over a cap (this one and those since the last such line)"
        );
        self.last = Some(Instant::now());
        self.since = 0;
        which
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn admission_caps_in_all_and_per_address() {
        let trusted = Arc::new(vec!["10.0.0.0/8".parse().expect("net")]);
        let a = Arc::new(Admission::new(4, 2, trusted));
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let one = a.admit(ip("192.0.2.1")).expect("1");
        let _two = a
            .admit(ip("::ffff:192.0.2.1"))
            .expect("2 (the same address)");
        assert!(a.admit(ip("192.0.2.1")).is_none(), "per address");
        let _p1 = a.admit(ip("10.0.0.1")).expect("proxy");
        let _p2 = a
            .admit(ip("10.0.0.1"))
            .expect("proxies are not capped per address");
        assert!(a.admit(ip("192.0.2.2")).is_none(), "in all");
        drop(one);
        let _again = a.admit(ip("192.0.2.1")).expect("a place was given back");
        assert_eq!(a.counts(ip("192.0.2.1")), (4, 2));
    }
}
