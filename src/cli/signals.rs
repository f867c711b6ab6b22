//! The process's one listener for SIGINT and SIGTERM, installed before any command runs. Each
//! signal steps the run's [`Shutdown`]: the first asks the command to stop and to finish or release
//! what it holds, the second to exit at once.

use voucherdeck_pipeline::Shutdown;

/// Installs the listener (inside the runtime) and returns the stop request it raises.
pub fn listen() -> Shutdown {
    let shutdown = Shutdown::new();
    let raised = shutdown.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered now, before the command starts, so no signal falls between two listeners.
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::spawn(async move {
                    while !raised.is_forced() {
                        tokio::select! {
                            _ = int.recv() => {}
                            _ = term.recv() => {}
                        }
                        raised.request();
                    }
                });
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT/SIGTERM; they end the process at once");
            }
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while !raised.is_forced() {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            raised.request();
        }
    });
    shutdown
}
