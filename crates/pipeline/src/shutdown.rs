//! A run's stop request. The process has one listener for SIGINT and SIGTERM (in the command line)
//! that raises it; a front end may raise it too. The first request asks every part of the run to
//! stop taking work and to finish or release what it holds; the second asks to exit at once.

use tokio_util::sync::CancellationToken;

/// A run's stop request, cheap to clone; every clone sees the same requests.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    stop: CancellationToken,
    now: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// The first call asks to stop gracefully; any later one, to exit at once.
    pub fn request(&self) {
        if self.stop.is_cancelled() {
            self.now.cancel();
        } else {
            self.stop.cancel();
        }
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Whether exiting at once was asked for.
    pub fn is_forced(&self) -> bool {
        self.now.is_cancelled()
    }

    /// Resolves once a stop is asked for.
    pub async fn requested(&self) {
        self.stop.cancelled().await;
    }

    /// Resolves once exiting at once is asked for.
    pub async fn forced(&self) {
        self.now.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_stops_and_the_second_forces() {
        let s = Shutdown::new();
        let other = s.clone();
        assert!(!s.is_requested() && !s.is_forced());
        other.request();
        assert!(s.is_requested() && !s.is_forced());
        other.request();
        assert!(s.is_forced());
    }
}
