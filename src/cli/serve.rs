//! `voucherdeck serve`: the HTTP intake API, headless, until Ctrl-C/SIGTERM (then it stops
//! accepting, finishes the requests in flight and flushes what it holds).

use super::args::ServeArgs;
use super::error::CliError;
use voucherdeck_api::{ServeConfig, serve};
use voucherdeck_pipeline::{Pipeline, Shutdown};

pub async fn run(p: &Pipeline, args: ServeArgs, shutdown: &Shutdown) -> Result<(), CliError> {
    // Fail now, not on the first gift, when the queue or the key table is missing.
    p.queue().await?;
    p.backend().keys.get_key("0000000000000000").await?;
    let config = ServeConfig {
        listen: args.listen,
        trusted_proxies: args.trusted_proxy,
        forwarded_header: args.forwarded_header,
        per_ip_per_minute: args.per_ip_per_minute,
        metrics_every: None,
        ..ServeConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CliError::Failed(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    tracing::info!(%addr, queue = %p.backend().names.queue, read_only = p.config().read_only, "intake API listening");
    let embedded = p.backend().info.kind == voucherdeck_core::backend::BackendKind::Embedded;
    let demo_limits = match (args.demo_key_per_minute, args.demo_key_daily) {
        (None, None) => None,
        _ if !embedded => {
            return Err(CliError::Usage(
                "--demo-key-per-minute and --demo-key-daily are for the embedded backend's demo \
                 key; on AWS, make keys with `voucherdeck keys create`"
                    .into(),
            ));
        }
        (m, d) => Some((
            m.unwrap_or(voucherdeck_pipeline::DEMO_PER_MINUTE),
            d.unwrap_or(voucherdeck_pipeline::DEMO_DAILY),
        )),
    };
    if embedded && !p.config().read_only {
        // Nothing else can reach this process's in-memory key table: make a key to try it with.
        let demo = p.create_demo_key(demo_limits).await?;
        eprintln!("{}", voucherdeck_pipeline::demo_curl(&demo, addr));
        if p.config().key_pepper == voucherdeck_pipeline::DEFAULT_KEY_PEPPER {
            eprintln!(
                "note: keys are hashed with the built-in demo pepper, which is public: fine for \
                 keys that live as long as this process; on AWS, serve requires \
                 VOUCHERDECK_KEY_PEPPER"
            );
        }
    }
    let stop = shutdown.clone();
    let served = serve(p.clone(), &config, listener, async move {
        stop.requested().await;
        tracing::info!(
            "shutting down: no new connections; finishing requests in flight (a second signal exits at once)"
        );
    });
    tokio::select! {
        r = served => r.map_err(|e| CliError::Failed(format!("the server failed: {e}")))?,
        () = shutdown.forced() => {
            return Err(CliError::Interrupted(
                "interrupted again: exiting without waiting for the requests in flight".into(),
            ));
        }
    }
    tracing::info!("stopped: every accepted gift is on the queue");
    Ok(())
}
