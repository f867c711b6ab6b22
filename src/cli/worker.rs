//! `voucherdeck worker`: the consumer, headless, until Ctrl-C/SIGTERM or until the queue is empty.

use super::out::outln;
use std::time::{Duration, Instant};

use super::args::WorkerArgs;
use super::error::CliError;
use voucherdeck_api::serve_worker_endpoints;
use voucherdeck_pipeline::{ConsumerConfig, Pipeline, Shutdown};

pub async fn run(p: &Pipeline, args: WorkerArgs, shutdown: &Shutdown) -> Result<(), CliError> {
    let queue = super::connect::unless_stopped(shutdown, async { Ok(p.queue().await?) }).await?;
    super::connect::unless_stopped(shutdown, async { Ok(p.dlq().await?) }).await?;
    let cfg = ConsumerConfig {
        concurrency: args.concurrency,
        until_empty: args.until_empty,
        ..ConsumerConfig::default()
    };
    // Bound before the consumer starts: a taken address fails the command before any receive.
    let listener = match args.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError::Failed(format!("--listen {addr}: cannot listen: {e}")))?;
            let bound = listener.local_addr().unwrap_or(addr);
            tracing::info!(%bound, "worker endpoints: /healthz, /readyz, /metrics");
            Some(listener)
        }
        None => None,
    };
    tracing::info!(queue = %queue.name, concurrency = cfg.concurrency, worker = %p.config().worker_id, "worker started");
    let started = Instant::now();
    let handle = p.start_consumer(cfg, None)?;
    let (endpoints_stop, endpoints) = match listener {
        Some(listener) => {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serve = serve_worker_endpoints(listener, handle.watch(), async move {
                let _ = stopped.await;
            });
            (Some(stop), Some(tokio::spawn(serve)))
        }
        None => (None, None),
    };
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    let mut last = 0;
    loop {
        tokio::select! {
            () = shutdown.requested() => {
                tracing::info!("shutting down: finishing batches in progress (a second signal exits at once)");
                handle.shutdown();
                break;
            }
            () = handle.stopped() => break,
            _ = tick.tick() => {
                let s = handle.snapshot();
                let rate = (s.totals.persisted - last) as f64 / 10.0;
                last = s.totals.persisted;
                tracing::info!(persisted = s.totals.persisted, failed = s.totals.failed, dead_lettered = s.totals.dead_lettered,
                    per_second = rate, p50_ms = s.p50_ms, p99_ms = s.p99_ms, "progress");
            }
        }
    }
    // Batches in progress finish; a second signal exits at once (the run's one listener).
    let report = handle.join().await;
    if let (Some(stop), Some(task)) = (endpoints_stop, endpoints) {
        let _ = stop.send(());
        if task.await.is_err() {
            tracing::warn!("the worker endpoints ended with an error");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
    } else {
        outln!(
            "received {}, persisted {}, failed {} ({} sent to the DLQ) in {:.1} s",
            report.totals.received,
            report.totals.persisted,
            report.totals.failed,
            report.totals.dead_lettered,
            secs
        )?;
    }
    match report.error {
        Some(e) => Err(CliError::Failed(format!("the worker stopped: {e}"))),
        None => Ok(()),
    }
}
