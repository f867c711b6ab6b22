//! What the connection layer did, for `/metrics`: connections open, refused over a cap, and
//! closed by a timeout or the stop deadline. Cheap to clone (shared counters).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cap {
    /// The server's connection cap.
    Server,
    /// The per-address cap.
    PerAddress,
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The request head did not arrive in time.
    HeadTimeout,
    /// The client did not read its answer in time.
    WriteTimeout,
    /// Still open at the stop deadline.
    StopDeadline,
}

/// The connection layer's figures.
#[derive(Debug, Clone, Default)]
pub struct ConnMetrics {
    open: Gauge,
    refused: Family<Labels, Counter>,
    closed: Family<Labels, Counter>,
}

impl ConnMetrics {
    /// Registers every figure under `voucherdeck_api_connections_*`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "voucherdeck_api_connections_open",
            "Connections open",
            self.open.clone(),
        );
        registry.register(
            "voucherdeck_api_connections_refused",
            "Connections refused over a cap, by cap (server, per_address)",
            self.refused.clone(),
        );
        registry.register(
            "voucherdeck_api_connections_closed",
            "Connections the server closed, by reason (head_timeout, write_timeout, stop_deadline)",
            self.closed.clone(),
        );
    }

    pub(crate) fn refused(&self, cap: Cap) {
        let cap = match cap {
            Cap::Server => "server",
            Cap::PerAddress => "per_address",
        };
        self.refused.get_or_create(&vec![("cap", cap)]).inc();
    }

    pub(crate) fn closed(&self, why: Closed, n: u64) {
        let reason = match why {
            Closed::HeadTimeout => "head_timeout",
            Closed::WriteTimeout => "write_timeout",
            Closed::StopDeadline => "stop_deadline",
        };
        self.closed
            .get_or_create(&vec![("reason", reason)])
            .inc_by(n);
    }

    /// Counts a connection open until the guard drops (however its task ends).
    pub(crate) fn open(&self) -> OpenConnection {
        self.open.inc();
        OpenConnection(self.open.clone())
    }
}

/// An open connection, counted until dropped.
pub(crate) struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
