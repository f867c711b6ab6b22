//! The intake publishes its own figures (requests answered, 5xx and 429 answers, audit entries
//! lost) through the Metrics port: on a schedule, one call each time and only when it has
//! something to say (none while idle), and once more when it stops. The intake alarms read them.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::services::Pipeline;
use voucherdeck_core::backend::BackendKind;
use voucherdeck_core::ports::BackendError;

/// The intake's publisher, running until stopped.
#[derive(Debug)]
pub struct IntakePublisher {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl IntakePublisher {
    /// Stops publishing on schedule and publishes what is left.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl Pipeline {
    /// How often the consumer and the intake publish their figures: CloudWatch's one-minute
    /// period on AWS, 2 s on the embedded engine (whose alarms use 10-second periods).
    pub fn metrics_cadence(&self) -> Duration {
        match self.backend().info.kind {
            BackendKind::Embedded => Duration::from_secs(2),
            BackendKind::Aws => Duration::from_mins(1),
        }
    }

    /// Starts publishing the intake's figures every `every`, until [`IntakePublisher::stop`].
    pub fn start_intake_metrics(&self, every: Duration) -> IntakePublisher {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(self.clone(), every, stop.clone()));
        IntakePublisher { stop, task }
    }
}

async fn run(pipeline: Pipeline, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        if !publish(&pipeline).await {
            return;
        }
    }
    publish(&pipeline).await;
}

/// Publishes what was answered since the last publish, if anything; false when the endpoint has
/// no CloudWatch (said once; nothing more is sent to it). A failed publish is carried over.
async fn publish(pipeline: &Pipeline) -> bool {
    let meter = pipeline.intake();
    let delta = meter.take_unpublished();
    if delta.is_empty() {
        return true;
    }
    match pipeline.backend().metrics.publish_intake(&delta).await {
        Ok(()) => true,
        Err(BackendError::Unsupported(why)) => {
            pipeline.say_once(
                "PutMetricData (intake)",
                &format!("this endpoint has no CloudWatch ({why}); the intake's metrics are not published"),
            );
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not publish the intake's metrics; the next publish carries them");
            meter.unpublished_again(&delta);
            true
        }
    }
}
