//! Endpoints that lack optional operations (`ListDeadLetterSourceQueues`, the message-move tasks,
//! CloudWatch) answer `InvalidAction` (HTTP 400), 404, 500 or 501: no command fails for it. The
//! SDK's answers are scripted with `aws-smithy-mocks`; what is not scripted runs on the embedded
//! backend. Also here: the `SenderId` SQS reports, read through the real adapter, and the DLQ's
//! source queues listed across pages.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchOutput;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::list_dead_letter_source_queues::ListDeadLetterSourceQueuesOutput;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskOutput;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, DeleteMessageBatchResultEntry, Message, MessageAttributeValue,
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchResultEntry,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use voucherdeck_aws::{CloudWatchMetrics, SqsQueue, Timeouts};
use voucherdeck_core::backend::{Backend, BackendKind, Names};
use voucherdeck_core::domain::{
    GiftRequest, Limits, Timestamp, TrustedSenders, Voucher, encode, validate,
};
use voucherdeck_core::ports::{Queue, QueueRef, RequestCounter};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{
    ConsumerConfig, NO_CLOUDWATCH, Pipeline, PipelineConfig, RedriveMethod, RedriveProgress,
    RedriveRequest, RedriveScope, RedriveStatus,
};

const PREFIX: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/";

/// How an endpoint says it lacks an operation.
#[derive(Debug, Clone, Copy)]
enum Missing {
    InvalidAction,
    NotFound,
    ServerError,
    NotImplemented,
}

const EVERY_WAY: [Missing; 4] = [
    Missing::InvalidAction,
    Missing::NotFound,
    Missing::ServerError,
    Missing::NotImplemented,
];

/// The HTTP answer of an endpoint without the operation (SQS speaks JSON, CloudWatch XML).
fn missing(how: Missing, json: bool) -> HttpResponse {
    let (status, body) = match how {
        Missing::InvalidAction if json => (
            400,
            r#"{"__type":"com.amazonaws.sqs#InvalidAction","message":"not supported here"}"#,
        ),
        Missing::InvalidAction => (
            400,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
             <Message>not supported here</Message></Error></ErrorResponse>",
        ),
        Missing::NotFound => (404, "<html>not found</html>"),
        Missing::ServerError => (500, "<html>internal error</html>"),
        Missing::NotImplemented => (501, ""),
    };
    HttpResponse::new(status.try_into().expect("status"), SdkBody::from(body))
}

fn url_rules() -> Vec<Rule> {
    ["vouchers", "vouchers-dlq"]
        .into_iter()
        .map(|name| {
            mock!(Client::get_queue_url)
                .match_requests(move |r| r.queue_name() == Some(name))
                .then_output(move || {
                    GetQueueUrlOutput::builder()
                        .queue_url(format!("{PREFIX}{name}"))
                        .build()
                })
        })
        .collect()
}

/// Queue attributes with `visible` messages (and nothing in flight or delayed), as provision sets
/// them (the DLQ keeps messages 14 days, the queue 4).
fn attributes(visible: u64) -> GetQueueAttributesOutput {
    GetQueueAttributesOutput::builder()
        .attributes(
            QueueAttributeName::ApproximateNumberOfMessages,
            visible.to_string(),
        )
        .attributes(
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            "0",
        )
        .attributes(QueueAttributeName::ApproximateNumberOfMessagesDelayed, "0")
        .attributes(QueueAttributeName::MessageRetentionPeriod, "345600")
        .attributes(QueueAttributeName::MaximumMessageSize, "1048576")
        .build()
}

/// The attributes of both queues, with nothing in them.
fn empty_queues() -> Vec<Rule> {
    let dlq = mock!(Client::get_queue_attributes)
        .match_requests(|r| r.queue_url() == Some(&format!("{PREFIX}vouchers-dlq")))
        .then_output(|| {
            let mut a = attributes(0).attributes.unwrap_or_default();
            a.insert(QueueAttributeName::MessageRetentionPeriod, "1209600".into());
            GetQueueAttributesOutput::builder()
                .set_attributes(Some(a))
                .build()
        });
    vec![
        dlq,
        mock!(Client::get_queue_attributes).then_output(|| attributes(0)),
    ]
}

fn message(id: &str, body: &str, sender: &str) -> Message {
    let now = Timestamp::now().millis().to_string();
    Message::builder()
        .message_id(id)
        .receipt_handle(format!("receipt-{id}"))
        .body(body)
        .attributes(MessageSystemAttributeName::SenderId, sender)
        .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
        .attributes(MessageSystemAttributeName::SentTimestamp, now.clone())
        .attributes(
            MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            now,
        )
        .build()
}

/// Receives `msgs` once, then nothing.
fn receive_once(msgs: Vec<Message>) -> Rule {
    mock!(Client::receive_message)
        .sequence()
        .output(move || {
            ReceiveMessageOutput::builder()
                .set_messages(Some(msgs.clone()))
                .build()
        })
        .output(|| ReceiveMessageOutput::builder().build())
        .repeatedly()
        .build()
}

/// Accepts every entry of every send to `queue`.
fn accept_sends(queue: &'static str) -> Rule {
    mock!(Client::send_message_batch)
        .match_requests(move |r| r.queue_url() == Some(&format!("{PREFIX}{queue}")))
        .then_compute_output(|r| {
            let ok = r.entries().iter().map(|e| {
                SendMessageBatchResultEntry::builder()
                    .id(e.id())
                    .message_id(format!("new-{}", e.id()))
                    .md5_of_message_body("-")
                    .build()
                    .expect("entry")
            });
            SendMessageBatchOutput::builder()
                .set_successful(Some(ok.collect()))
                .set_failed(Some(Vec::new()))
                .build()
                .expect("output")
        })
}

fn accept_deletes() -> Rule {
    mock!(Client::delete_message_batch).then_compute_output(|r| {
        let ok = r.entries().iter().map(|e| {
            DeleteMessageBatchResultEntry::builder()
                .id(e.id())
                .build()
                .expect("entry")
        });
        DeleteMessageBatchOutput::builder()
            .set_successful(Some(ok.collect()))
            .set_failed(Some(Vec::new()))
            .build()
            .expect("output")
    })
}

const TIMEOUTS: Timeouts = Timeouts {
    operation: Duration::from_secs(5),
    attempt: Duration::from_secs(5),
};

/// The real SQS (and CloudWatch) adapters on scripted clients; the rest embedded.
fn pipeline(
    sqs: Client,
    cloudwatch: Option<aws_sdk_cloudwatch::Client>,
    config: PipelineConfig,
) -> Pipeline {
    let requests = RequestCounter::default();
    let queue = SqsQueue::new(sqs, requests.clone(), TIMEOUTS, Some("us-east-1".into()));
    let embedded = Embedded::new(Names::default()).backend;
    let mut backend = Backend {
        queue: Arc::new(queue),
        ..embedded
    };
    if let Some(cw) = cloudwatch {
        backend.metrics = Arc::new(CloudWatchMetrics::new(cw, requests, "vouchers".into()));
        backend.info.kind = BackendKind::Aws;
    }
    Pipeline::new(backend, config)
}

/// Runs a redrive to its end (20 s at most).
async fn redrive(
    p: &Pipeline,
    scope: RedriveScope,
    destination: Option<&str>,
    rate: Option<u32>,
) -> RedriveProgress {
    let h = p.start_redrive(RedriveRequest {
        scope,
        destination: destination.map(ToString::to_string),
        rate,
        note: None,
    });
    tokio::time::timeout(Duration::from_secs(20), h.wait())
        .await
        .expect("the redrive finishes")
}

/// `redrive --all` where the endpoint can neither list the DLQ's sources nor run a move task:
/// the messages are copied to the configured source queue, and the redrive completes.
async fn redrive_falls_back_to_copying(how: Missing) {
    let sources = mock!(Client::list_dead_letter_source_queues)
        .then_http_response(move || missing(how, true));
    let start =
        mock!(Client::start_message_move_task).then_http_response(move || missing(how, true));
    let to_source = accept_sends("vouchers");
    let mut rules = url_rules();
    rules.extend([
        sources.clone(),
        start.clone(),
        mock!(Client::get_queue_attributes).then_output(|| attributes(2)),
        receive_once(vec![
            message("m1", "bad one", "AIDAX"),
            message("m2", "bad two", "AIDAX"),
        ]),
        to_source.clone(),
        accept_deletes(),
    ]);
    let p = pipeline(
        mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules),
        None,
        PipelineConfig::default(),
    );
    let done = redrive(&p, RedriveScope::All, None, Some(100)).await;
    assert_eq!(done.method, RedriveMethod::Copy, "{how:?}: {done}");
    assert_eq!(done.status, RedriveStatus::Completed, "{how:?}: {done}");
    assert_eq!((done.moved, done.failed), (2, 0), "{how:?}: {done}");
    assert_eq!(
        to_source.num_calls(),
        1,
        "{how:?}: sent to the configured queue"
    );
    // (The SDK retries a bare 500 before it gives up.)
    assert!(
        start.num_calls() >= 1 && sources.num_calls() >= 1,
        "{how:?}"
    );
}

#[tokio::test]
async fn redrive_without_source_listing_or_move_tasks_copies_to_the_configured_queue() {
    for how in EVERY_WAY {
        redrive_falls_back_to_copying(how).await;
    }
}

#[tokio::test]
async fn a_move_task_the_endpoint_cannot_list_is_followed_by_the_dlq_depth() {
    let start = mock!(Client::start_message_move_task).then_output(|| {
        StartMessageMoveTaskOutput::builder()
            .task_handle("task-1")
            .build()
    });
    let list = mock!(Client::list_message_move_tasks)
        .then_http_response(|| missing(Missing::ServerError, true));
    let depth = mock!(Client::get_queue_attributes)
        .sequence()
        .output(|| attributes(3))
        .output(|| attributes(3))
        .output(|| attributes(1))
        .output(|| attributes(0))
        .repeatedly()
        .build();
    let sources = mock!(Client::list_dead_letter_source_queues)
        .then_http_response(|| missing(Missing::NotImplemented, true));
    let mut rules = url_rules();
    rules.extend([start, list, depth, sources]);
    let p = pipeline(
        mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules),
        None,
        PipelineConfig::default(),
    );
    let done = redrive(&p, RedriveScope::All, None, None).await;
    assert_eq!(done.method, RedriveMethod::Native, "{done}");
    assert_eq!(done.status, RedriveStatus::Completed, "{done}");
    assert_eq!((done.moved, done.total), (3, Some(3)), "{done}");
}

/// A DLQ with three source queues, listed on two pages.
#[tokio::test]
async fn the_dlq_sources_are_read_page_by_page_one_request_a_page() {
    let page = |urls: &[&str], next: Option<&str>| {
        let urls = urls.iter().map(|name| format!("{PREFIX}{name}")).collect();
        ListDeadLetterSourceQueuesOutput::builder()
            .set_queue_urls(Some(urls))
            .set_next_token(next.map(ToString::to_string))
            .build()
            .expect("a page")
    };
    let first = mock!(Client::list_dead_letter_source_queues)
        .match_requests(|r| r.next_token().is_none())
        .then_output(move || page(&["orders", "refunds"], Some("page-2")));
    let second = mock!(Client::list_dead_letter_source_queues)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || page(&["returns"], None));
    let requests = RequestCounter::default();
    let sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&first, &second]);
    let queue = SqsQueue::new(sqs, requests.clone(), TIMEOUTS, Some("us-east-1".into()));
    let dlq = QueueRef {
        name: "vouchers-dlq".into(),
        url: format!("{PREFIX}vouchers-dlq"),
        arn: "arn:aws:sqs:us-east-1:123456789012:vouchers-dlq".into(),
    };
    let sources = queue.dead_letter_sources(&dlq).await.expect("listed");
    let names: Vec<&str> = sources.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["orders", "refunds", "returns"]);
    assert_eq!(sources[2].arn, "arn:aws:sqs:us-east-1:123456789012:returns");
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    assert_eq!(
        requests.by_op().get("sqs:ListDeadLetterSourceQueues"),
        Some(&2),
        "one request a page, none after the last"
    );
}

#[tokio::test]
async fn status_without_cloudwatch_says_no_data_plainly() {
    for how in EVERY_WAY {
        let metrics = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .then_http_response(move || missing(how, false));
        let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&metrics]);
        let mut rules = url_rules();
        rules.extend(empty_queues());
        let p = pipeline(
            mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules),
            Some(cw),
            PipelineConfig::default(),
        );
        let report = p.status(5).await.expect("status answers");
        assert_eq!(report.queue.oldest_age_seconds, None);
        assert_eq!(report.queue.oldest_age_note, Some(NO_CLOUDWATCH), "{how:?}");
        assert_eq!(report.dlq.oldest_age_note, Some(NO_CLOUDWATCH), "{how:?}");
        assert!(report.warnings.is_empty(), "{how:?}: {:?}", report.warnings);
        assert_eq!(metrics.num_calls(), 1, "{how:?}");
        // The dashboard's minute read (ages and the intake servers' figures) degrades the same way.
        let read = p.read_minute().await;
        assert!(
            matches!(
                read,
                Err(voucherdeck_core::ports::BackendError::Unsupported(_))
            ),
            "{how:?}: {read:?}"
        );
        assert_eq!(metrics.num_calls(), 2, "{how:?}");
    }
}

fn voucher_body(recipient: &str) -> String {
    let gift = GiftRequest {
        recipient: recipient.into(),
        amount: "5.00".into(),
        sender: "ops".into(),
        ..GiftRequest::default()
    };
    encode(&Voucher::new(
        validate(&gift, &Limits::default()).expect("valid"),
        Timestamp::now(),
    ))
}

/// Accepts a DLQ send of one message whose diagnosis says `kind` (and matches nothing else).
fn dead_letters_of_kind(kind: &'static str) -> Rule {
    mock!(Client::send_message_batch)
        .match_requests(|r| {
            r.queue_url() == Some(&format!("{PREFIX}vouchers-dlq"))
                && r.entries().len() == 1
                && r.entries()[0]
                    .message_attributes()
                    .and_then(|a| a.get("voucherdeck.error_kind"))
                    .and_then(MessageAttributeValue::string_value)
                    == Some(kind)
        })
        .then_compute_output(|r| {
            SendMessageBatchOutput::builder()
                .successful(
                    SendMessageBatchResultEntry::builder()
                        .id(r.entries()[0].id())
                        .message_id("dlq-1")
                        .md5_of_message_body("-")
                        .build()
                        .expect("entry"),
                )
                .set_failed(Some(Vec::new()))
                .build()
                .expect("output")
        })
}

#[tokio::test]
async fn the_consumer_reads_the_sender_id_sqs_reports_and_refuses_untrusted_senders() {
    let untrusted_to_dlq = dead_letters_of_kind("untrusted_sender");
    let deletes = accept_deletes();
    let mut rules = url_rules();
    rules.extend([
        receive_once(vec![
            message(
                "m1",
                &voucher_body("ada@example.com"),
                "AROAINTAKE:gift-api-7",
            ),
            message("m2", &voucher_body("eve@example.com"), "AIDAMALLORY"),
        ]),
        untrusted_to_dlq.clone(),
        deletes.clone(),
    ]);
    rules.extend(empty_queues());
    let config = PipelineConfig {
        trusted_senders: Some(TrustedSenders::parse(&["AROAINTAKE"]).expect("ids")),
        ..PipelineConfig::default()
    };
    let p = pipeline(
        mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules),
        None,
        config,
    );
    let h = p
        .start_consumer(
            ConsumerConfig {
                until_empty: true,
                wait: Duration::from_millis(100),
                publish_every: None,
                ..ConsumerConfig::default()
            },
            None,
        )
        .expect("start");
    let report = tokio::time::timeout(Duration::from_secs(20), h.join())
        .await
        .expect("drains");
    assert_eq!(
        (report.totals.persisted, report.totals.dead_lettered),
        (1, 1)
    );
    assert_eq!(
        untrusted_to_dlq.num_calls(),
        1,
        "the forged one went to the DLQ"
    );
    assert_eq!(p.backend().store.count_vouchers().await.expect("count"), 1);
    let log = p.recent_failures(5).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].recipient.as_deref(), Some("e***@example.com"));
    assert!(
        log[0]
            .reason
            .contains("AIDAMALLORY is not in trusted_senders"),
        "{}",
        log[0].reason
    );
}

#[tokio::test]
async fn a_copy_whose_delete_fails_is_not_counted_as_moved() {
    // The DLQ refuses to delete one of the two copied messages: it stays there (a second redrive
    // would make a duplicate, never a loss), and the redrive says so.
    let half_deleted = mock!(Client::delete_message_batch).then_compute_output(|r| {
        let (first, rest) = r.entries().split_first().expect("entries");
        DeleteMessageBatchOutput::builder()
            .successful(
                DeleteMessageBatchResultEntry::builder()
                    .id(first.id())
                    .build()
                    .expect("entry"),
            )
            .set_failed(Some(
                rest.iter()
                    .map(|e| {
                        BatchResultErrorEntry::builder()
                            .id(e.id())
                            .code("InternalError")
                            .sender_fault(false)
                            .build()
                            .expect("entry")
                    })
                    .collect(),
            ))
            .build()
            .expect("output")
    });
    let mut rules = url_rules();
    rules.extend([
        receive_once(vec![message("m1", "bad one", "AIDAX"), message("m2", "bad two", "AIDAX")]),
        accept_sends("vouchers"),
        half_deleted,
        mock!(Client::change_message_visibility_batch).then_output(|| {
            aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchOutput::builder()
                .set_successful(Some(Vec::new()))
                .set_failed(Some(Vec::new()))
                .build()
                .expect("output")
        }),
    ]);
    rules.extend(empty_queues());
    let p = pipeline(
        mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &rules),
        None,
        PipelineConfig::default(),
    );
    let ids = RedriveScope::Ids(vec!["m1".into(), "m2".into()]);
    let done = redrive(&p, ids, Some("vouchers"), Some(100)).await;
    assert_eq!((done.moved, done.failed), (1, 1), "{done}");
}
