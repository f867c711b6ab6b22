//! `voucherdeck lambda`: the consumer as a Lambda function on the custom runtime
//! (`provided.al2023`, this binary as `bootstrap`). An event source mapping polls the queue and
//! hands over batches; each runs the worker's steps (`Pipeline::consume_delivered`) and is
//! answered with a partial batch response (`ReportBatchItemFailures`): only the messages that are
//! not done are named, the mapping deletes the rest, and nothing is deleted by hand. The figures
//! go to stdout as one embedded-metric-format line per batch.

mod emf;
mod event;

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

use super::error::CliError;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_pipeline::{DeliveredOutcome, Pipeline, Shutdown};

/// Time kept back from the invocation's deadline to write the answer: work still unfinished by
/// then is answered as not done.
pub const ANSWER_RESERVE: Duration = Duration::from_millis(800);

/// What the runtime needs from its environment (its client panics without them).
const RUNTIME_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Serves invocations until the runtime stops or a signal asks to.
pub async fn run(p: &Pipeline, shutdown: &Shutdown) -> Result<(), CliError> {
    check_environment()?;
    let queue = p.backend().names.queue.clone();
    tracing::info!(queue = %queue, worker = %p.config().worker_id, "lambda handler started");
    let handler = service_fn(|e: LambdaEvent<SqsEvent>| handle(p, &queue, e));
    tokio::select! {
        r = lambda_runtime::run(handler) => r.map_err(|e| CliError::Failed(format!("the Lambda runtime stopped: {e}"))),
        () = shutdown.requested() => Ok(()),
    }
}

/// Who this sandbox is, for failure records and DLQ attributes: the function and its log
/// stream's instance id (`vouchers-consumer:2f1a…`); `None` outside Lambda. A host name and pid
/// say little there: sandboxes share both.
pub fn worker_id() -> Option<String> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok()?;
    let stream = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default();
    let instance = stream.rsplit(']').next().unwrap_or_default();
    Some(if instance.is_empty() {
        function
    } else {
        format!("{function}:{instance}")
    })
}

/// Every variable the runtime reads must be there, and the memory size a number.
fn check_environment() -> Result<(), CliError> {
    for name in RUNTIME_ENV {
        let value = std::env::var(name).unwrap_or_default();
        if value.is_empty() {
            return Err(CliError::Usage(format!(
                "{name} is not set: `voucherdeck lambda` runs inside AWS Lambda (or against a \
                 runtime API emulator), which sets it"
            )));
        }
        if name == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" && value.parse::<i32>().is_err() {
            return Err(CliError::Usage(format!(
                "{name} must be a whole number of megabytes, not {value:?}"
            )));
        }
    }
    Ok(())
}

/// One invocation: the batch, within the deadline less [`ANSWER_RESERVE`].
async fn handle(
    p: &Pipeline,
    configured_queue: &str,
    e: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, String> {
    let deadline = work_deadline(e.context.deadline(), SystemTime::now(), Instant::now());
    let (msgs, queue) = event::messages(e.payload)?;
    let queue = queue.unwrap_or_else(|| configured_queue.to_string());
    let out = p.consume_delivered(msgs, &queue, deadline).await;
    if out.deadline_passed {
        tracing::warn!(not_done = out.not_done.len(), request_id = %e.context.request_id,
            "the invocation's deadline came first; unfinished messages are answered as not done");
    }
    print_metrics(&queue, &out);
    Ok(answer(out))
}

/// The instant work must end by: the invocation's deadline less the answer's reserve (now, when
/// that has passed already).
fn work_deadline(deadline: SystemTime, now: SystemTime, at: Instant) -> Instant {
    let left = deadline
        .duration_since(now)
        .unwrap_or_default()
        .saturating_sub(ANSWER_RESERVE);
    at + left
}

/// The partial batch response: the ids of the messages that are not done.
fn answer(out: DeliveredOutcome) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = out
        .not_done
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// The batch's figures as one EMF line on stdout (Lambda delivers stdout to CloudWatch Logs,
/// which extracts the metrics).
fn print_metrics(queue: &str, out: &DeliveredOutcome) {
    use std::io::Write;
    let line = emf::line(queue, &out.counts, out.latency_ms, Timestamp::now().0);
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        tracing::warn!(error = %e, "could not write the metrics line");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_ends_before_the_deadline_by_the_reserve() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let at = Instant::now();
        let d = work_deadline(now + Duration::from_secs(10), now, at);
        assert_eq!(d.duration_since(at), Duration::from_millis(9200));
        assert_eq!(work_deadline(now + Duration::from_millis(100), now, at), at);
        assert_eq!(work_deadline(now - Duration::from_secs(1), now, at), at);
    }

    #[test]
    fn the_answer_names_only_what_is_not_done() {
        let out = DeliveredOutcome {
            not_done: vec!["m3".into()],
            ..DeliveredOutcome::default()
        };
        let json = serde_json::to_value(answer(out)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m3"}]})
        );
        let none = serde_json::to_value(answer(DeliveredOutcome::default())).expect("json");
        assert_eq!(none, serde_json::json!({"batchItemFailures": []}));
    }
}
