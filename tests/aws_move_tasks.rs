//! The native redrive path on AWS: `StartMessageMoveTask`, `ListMessageMoveTasks` and
//! `CancelMessageMoveTask` through the real SQS adapter and redrive service. moto answers these with
//! HTTP 500, so the SDK's responses are scripted with `aws-smithy-mocks` (the official tool).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::cancel_message_move_task::CancelMessageMoveTaskOutput;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::list_dead_letter_source_queues::ListDeadLetterSourceQueuesOutput;
use aws_sdk_sqs::operation::list_message_move_tasks::ListMessageMoveTasksOutput;
use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskOutput;
use aws_sdk_sqs::types::ListMessageMoveTasksResultEntry;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use voucherdeck_aws::{SqsQueue, Timeouts};
use voucherdeck_core::backend::{Backend, Names};
use voucherdeck_core::ports::RequestCounter;
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{
    Pipeline, PipelineConfig, RedriveMethod, RedriveRequest, RedriveScope, RedriveStatus,
};

const PREFIX: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/";

fn url_rules() -> Vec<Rule> {
    let by_name = |name: &'static str| {
        mock!(Client::get_queue_url)
            .match_requests(move |r| r.queue_name() == Some(name))
            .then_output(move || {
                GetQueueUrlOutput::builder()
                    .queue_url(format!("{PREFIX}{name}"))
                    .build()
            })
    };
    let sources = mock!(Client::list_dead_letter_source_queues).then_output(|| {
        ListDeadLetterSourceQueuesOutput::builder()
            .queue_urls(format!("{PREFIX}vouchers"))
            .build()
            .expect("output")
    });
    vec![by_name("vouchers"), by_name("vouchers-dlq"), sources]
}

fn task(status: &str, moved: i64) -> ListMessageMoveTasksOutput {
    ListMessageMoveTasksOutput::builder()
        .results(
            ListMessageMoveTasksResultEntry::builder()
                .task_handle("task-1")
                .status(status)
                .source_arn("arn:aws:sqs:us-east-1:123456789012:vouchers-dlq")
                .destination_arn("arn:aws:sqs:us-east-1:123456789012:vouchers")
                .approximate_number_of_messages_moved(moved)
                .approximate_number_of_messages_to_move(3)
                .started_timestamp(1_764_000_000_000)
                .build(),
        )
        .build()
}

/// The real SQS adapter on a scripted client; the rest of the backend is embedded (unused here).
fn pipeline(client: Client) -> Pipeline {
    let sqs = SqsQueue::new(
        client,
        RequestCounter::default(),
        Timeouts {
            operation: Duration::from_secs(5),
            attempt: Duration::from_secs(5),
        },
        Some("us-east-1".into()),
    );
    let embedded = Embedded::new(Names::default()).backend;
    let backend = Backend {
        queue: Arc::new(sqs),
        ..embedded
    };
    Pipeline::new(backend, PipelineConfig::default())
}

#[tokio::test]
async fn redrive_all_uses_the_native_task_with_an_explicit_destination_and_follows_it() {
    let start = mock!(Client::start_message_move_task)
        .match_requests(|r| {
            r.source_arn() == Some("arn:aws:sqs:us-east-1:123456789012:vouchers-dlq")
                && r.destination_arn() == Some("arn:aws:sqs:us-east-1:123456789012:vouchers")
                && r.max_number_of_messages_per_second() == Some(25)
        })
        .then_output(|| {
            StartMessageMoveTaskOutput::builder()
                .task_handle("task-1")
                .build()
        });
    let progress = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 1))
        .output(|| task("COMPLETED", 3))
        .build();
    let mut rules = url_rules();
    rules.extend([start, progress.clone()]);
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules);
    let p = pipeline(client);

    let h = p.start_redrive(RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: Some(25),
        note: None,
    });
    let done = tokio::time::timeout(Duration::from_secs(10), h.wait())
        .await
        .expect("finishes");
    assert_eq!(done.method, RedriveMethod::Native);
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    assert_eq!((done.moved, done.total), (3, Some(3)));
    assert_eq!(
        progress.num_calls(),
        2,
        "progress was followed until the task completed"
    );
}

#[tokio::test]
async fn cancelling_a_native_redrive_cancels_the_task() {
    let start = mock!(Client::start_message_move_task).then_output(|| {
        StartMessageMoveTaskOutput::builder()
            .task_handle("task-1")
            .build()
    });
    let cancel = mock!(Client::cancel_message_move_task)
        .match_requests(|r| r.task_handle() == Some("task-1"))
        .then_output(|| {
            CancelMessageMoveTaskOutput::builder()
                .approximate_number_of_messages_moved(1)
                .build()
        });
    let progress = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 1))
        .output(|| task("CANCELLING", 1))
        .output(|| task("CANCELLED", 1))
        .build();
    let mut rules = url_rules();
    rules.extend([start, cancel.clone(), progress]);
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules);
    let p = pipeline(client);

    let h = p.start_redrive(RedriveRequest {
        scope: RedriveScope::All,
        destination: None,
        rate: None,
        note: None,
    });
    h.cancel();
    let done = tokio::time::timeout(Duration::from_secs(10), h.wait())
        .await
        .expect("finishes");
    assert_eq!(done.status, RedriveStatus::Cancelled, "{done}");
    assert_eq!(done.moved, 1);
    assert_eq!(cancel.num_calls(), 1);
}
