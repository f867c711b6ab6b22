//! `voucherdeck lambda`, the real binary, against a Lambda Runtime API served by the test (the
//! documented protocol: `GET /2018-06-01/runtime/invocation/next` with the request id, deadline and
//! function ARN headers; `POST …/{id}/response` and `…/{id}/error`), with SQS events built from
//! messages received from moto as an event source mapping would hand them over. The handler
//! persists to moto through the fault proxy; the test reads the outcome straight from moto.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/rig.rs"]
mod rig;

use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

use procs::{finish, sigterm};
use proxy::{Fault, Faults};
use rig::{Rig, poison_bodies};
use uuid::Uuid;
use voucherdeck_core::ports::{ReceiveRequest, ReceivedMessage};

/// One invocation to hand out: its request id, event and deadline.
struct Invocation {
    id: String,
    event: Value,
    deadline_ms: u128,
}

/// What the function answered: `response` or `error`, for which request, with what body.
#[derive(Debug)]
struct Answer {
    kind: &'static str,
    id: String,
    body: Value,
}

#[derive(Clone)]
struct Api {
    next: Arc<Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    answers: mpsc::UnboundedSender<Answer>,
    function_arn: String,
}

/// `GET /2018-06-01/runtime/invocation/next`: waits until the test hands out an invocation.
async fn next(State(api): State<Api>) -> (HeaderMap, String) {
    let inv = api
        .next
        .lock()
        .await
        .recv()
        .await
        .expect("the test hands out invocations");
    let mut h = HeaderMap::new();
    let mut set = |k: &'static str, v: String| {
        h.insert(k, v.parse().expect("header value"));
    };
    set("lambda-runtime-aws-request-id", inv.id);
    set("lambda-runtime-deadline-ms", inv.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        api.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into(),
    );
    set("content-type", "application/json".into());
    (h, inv.event.to_string())
}

fn answered(api: &Api, kind: &'static str, id: String, body: &str) -> axum::http::StatusCode {
    let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    let _ = api.answers.send(Answer { kind, id, body });
    axum::http::StatusCode::ACCEPTED
}

/// The function as a child process serving a runtime API on loopback.
struct Function {
    child: Option<Child>,
    invocations: mpsc::UnboundedSender<Invocation>,
    answers: mpsc::UnboundedReceiver<Answer>,
}

impl Function {
    fn start(rig: &Rig) -> Function {
        let (inv_tx, inv_rx) = mpsc::unbounded_channel();
        let (ans_tx, ans_rx) = mpsc::unbounded_channel();
        let api = Api {
            next: Arc::new(Mutex::new(inv_rx)),
            answers: ans_tx,
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:vouchers-consumer".into(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(
                    |State(a): State<Api>, Path(id): Path<String>, body: String| async move {
                        answered(&a, "response", id, &body)
                    },
                ),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(
                    |State(a): State<Api>, Path(id): Path<String>, body: String| async move {
                        answered(&a, "error", id, &body)
                    },
                ),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(|State(a): State<Api>, body: String| async move {
                    answered(&a, "init_error", String::new(), &body)
                }),
            )
            .with_state(api);
        let listener = rig
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the runtime API");
        let addr = listener.local_addr().expect("runtime API address");
        rig.rt
            .spawn(async move { axum::serve(listener, app).await });
        let child = rig
            .env
            .command(&["lambda"])
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "vouchers-consumer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/08/[$LATEST]0123456789abcdef",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/vouchers-consumer")
            .spawn()
            .expect("spawn voucherdeck lambda");
        Function {
            child: Some(child),
            invocations: inv_tx,
            answers: ans_rx,
        }
    }

    /// Invokes the function with `event`, its deadline `within` from now; its answer.
    fn invoke(&mut self, rig: &Rig, event: Value, within: Duration) -> Answer {
        let id = Uuid::new_v4().to_string();
        let deadline_ms = (SystemTime::now() + within)
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        self.invocations
            .send(Invocation {
                id: id.clone(),
                event,
                deadline_ms,
            })
            .expect("the runtime API is up");
        let answer = rig
            .rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(90), self.answers.recv()).await
            })
            .expect("the function answered within 90 s")
            .expect("an answer");
        assert_eq!(answer.id, id, "{answer:?}");
        answer
    }

    /// Stops the function (SIGTERM); its standard output and error.
    fn stop(mut self) -> (String, String) {
        let child = self.child.take().expect("running");
        sigterm(&child);
        let (status, out, err) = finish(child, Duration::from_secs(30), "voucherdeck lambda");
        assert!(status.success(), "exit {status:?}: {err}");
        (out, err)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `n` messages received straight from moto (as an event source mapping receives them).
fn receive(rig: &Rig, n: usize) -> Vec<ReceivedMessage> {
    rig.rt.block_on(async {
        let q = rig.pipeline.queue().await.expect("queue");
        let mut got: Vec<ReceivedMessage> = Vec::new();
        while got.len() < n {
            let request = ReceiveRequest {
                max: (n - got.len()).min(10),
                wait: Duration::from_secs(1),
                visibility: Some(Duration::from_mins(5)),
            };
            let batch = rig
                .pipeline
                .backend()
                .queue
                .receive(&q, request)
                .await
                .expect("receive");
            got.extend(batch);
        }
        got
    })
}

/// The SQS event Lambda hands the function for these messages (the documented record shape).
fn sqs_event(rig: &Rig, msgs: &[ReceivedMessage]) -> Value {
    let arn = format!("arn:aws:sqs:us-east-1:123456789012:{}", rig.env.names.queue);
    let records: Vec<Value> = msgs
        .iter()
        .map(|m| {
            let attrs: serde_json::Map<String, Value> = m
                .attributes
                .iter()
                .map(|(k, v)| {
                    let a = json!({"stringValue": v, "stringListValues": [], "binaryListValues": [], "dataType": "String"});
                    (k.clone(), a)
                })
                .collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": m.sent_at.map_or(0, |t| t.0).to_string(),
                    "SenderId": m.sender_id.clone().unwrap_or_default(),
                    "ApproximateFirstReceiveTimestamp": m.first_received_at.map_or(0, |t| t.0).to_string(),
                },
                "messageAttributes": attrs,
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The ids a partial batch response names.
fn failures(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.kind, "response", "{answer:?}");
    answer.body["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("a partial batch response: {}", answer.body))
        .iter()
        .map(|f| {
            f["itemIdentifier"]
                .as_str()
                .expect("itemIdentifier")
                .to_string()
        })
        .collect()
}

/// The message of `body` among `msgs`.
fn id_of(msgs: &[ReceivedMessage], body_has: &str) -> String {
    msgs.iter()
        .find(|m| m.body.contains(body_has))
        .map(|m| m.message_id.clone())
        .expect("the message is in the batch")
}

#[test]
fn one_poison_message_in_ten_goes_to_the_dlq_and_is_not_retried() {
    let rig = Rig::new("lam", Faults::none());
    let vouchers = rig.gift(9);
    let poison = poison_bodies("lambda", 1);
    rig.poison(&poison);
    let msgs = receive(&rig, 10);
    let mut f = Function::start(&rig);
    let answer = f.invoke(&rig, sqs_event(&rig, &msgs), Duration::from_secs(30));
    assert_eq!(failures(&answer), Vec::<String>::new(), "{:?}", answer.body);
    assert_eq!(
        rig.stored(&vouchers),
        Vec::<Uuid>::new(),
        "the nine are stored"
    );
    let dlq = rig.dlq_messages();
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert_eq!(dlq[0].body, poison[0]);
    assert_eq!(dlq[0].attributes["voucherdeck.error_kind"], "not_json");
    assert!(
        dlq[0].attributes["voucherdeck.error_message"].contains("not JSON"),
        "{dlq:?}"
    );
    assert_eq!(
        dlq[0].attributes["voucherdeck.source_queue"],
        rig.env.names.queue
    );
    let records = rig
        .rt
        .block_on(rig.pipeline.recent_failures(10))
        .expect("failure log");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].message_id, id_of(&msgs, "poison"));
    assert!(records[0].dead_lettered);
    assert_eq!(
        records[0].worker, "vouchers-consumer:0123456789abcdef",
        "the sandbox"
    );
    assert_eq!(
        dlq[0].attributes["voucherdeck.worker"],
        "vouchers-consumer:0123456789abcdef"
    );
    let (out, _) = f.stop();
    let emf: Value = out
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("an EMF line on stdout: {out}"));
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Voucherdeck"
    );
    assert_eq!(emf["Queue"], rig.env.names.queue.as_str());
    let figures = (
        &emf["VouchersPersisted"],
        &emf["VouchersFailed"],
        &emf["VouchersDeadLettered"],
    );
    assert_eq!(figures, (&json!(9), &json!(1), &json!(1)), "{emf}");
    eprintln!("answer: {}\nEMF: {emf}", answer.body);
}

#[test]
fn a_store_failure_of_one_voucher_returns_exactly_that_one() {
    let rig = Rig::new("lamf", Faults::none());
    let vouchers = rig.gift(10);
    let msgs = receive(&rig, 10);
    let unlucky = vouchers[3].to_string();
    // Every write of the vouchers table that carries this voucher is throttled, whatever the call.
    let table = format!("{{\"RequestItems\":{{\"{}\":", rig.env.names.table);
    rig.proxy
        .fail_carrying("BatchWriteItem", &[&table, &unlucky], Fault::Throttle);
    let mut f = Function::start(&rig);
    let answer = f.invoke(&rig, sqs_event(&rig, &msgs), Duration::from_mins(1));
    assert_eq!(
        failures(&answer),
        vec![id_of(&msgs, &unlucky)],
        "{:?}",
        answer.body
    );
    assert_eq!(
        rig.stored(&vouchers),
        vec![vouchers[3]],
        "the other nine are stored"
    );
    assert!(
        rig.dlq_messages().is_empty(),
        "a retryable failure is not dead-lettered"
    );
    let records = rig
        .rt
        .block_on(rig.pipeline.recent_failures(10))
        .expect("failure log");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].voucher_id, Some(vouchers[3]));
    assert_eq!(records[0].kind.to_string(), "throttled");
    assert!(!records[0].dead_lettered);
    f.stop();
}

#[test]
fn a_deadline_close_at_hand_answers_the_unfinished_as_not_done() {
    let rig = Rig::new("lamd", Faults::none());
    let vouchers = rig.gift(5);
    let poison = poison_bodies("deadline", 1);
    rig.poison(&poison);
    let msgs = receive(&rig, 6);
    // The store's read answers after the invocation's deadline.
    rig.proxy.delay("BatchGetItem", Duration::from_secs(8));
    let mut f = Function::start(&rig);
    let answer = f.invoke(&rig, sqs_event(&rig, &msgs), Duration::from_secs(3));
    let mut not_done = failures(&answer);
    not_done.sort();
    let mut all: Vec<String> = msgs.iter().map(|m| m.message_id.clone()).collect();
    all.sort();
    // The vouchers wait for the store, and the poison's DLQ send comes after them: all unfinished.
    assert_eq!(not_done, all, "{:?}", answer.body);
    rig.proxy.delay("BatchGetItem", Duration::ZERO);
    assert_eq!(rig.stored(&vouchers).len(), 5, "none was written");
    let (_, err) = f.stop();
    assert!(err.contains("deadline"), "the log says why: {err}");
}

#[test]
fn a_binary_named_bootstrap_runs_as_the_handler_and_needs_the_runtime_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bootstrap = dir.path().join("bootstrap");
    std::fs::copy(env!("CARGO_BIN_EXE_voucherdeck"), &bootstrap).expect("copy the binary");
    let out = std::process::Command::new(&bootstrap)
        .env_clear()
        .env("HOME", dir.path())
        .output()
        .expect("run bootstrap");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("AWS_LAMBDA_RUNTIME_API is not set"), "{err}");
}
