//! The HTTP intake API on the embedded backend: real HTTP against servers started by the test.
//! Every status code, auth and roles, per-key and per-IP limits, the exact daily cap across two
//! servers, idempotency, batches, limits on bodies and headers, shutdown with requests in flight.

#[path = "support/http.rs"]
mod http;

use std::net::SocketAddr;
use std::time::Duration;

use http::{Resp, send, try_send};
use voucherdeck_api::{RunningServer, ServeConfig};
use voucherdeck_core::backend::{Backend, Names};
use voucherdeck_core::domain::{KeySpec, Role, Voucher, decode};
use voucherdeck_core::ports::{BackendError, ReceiveRequest};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{ConsumerConfig, Pipeline, PipelineConfig};

fn serve_config() -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        trusted_proxies: vec![],
        per_ip_per_minute: 0,
        metrics_every: None,
        ..ServeConfig::default()
    }
}

/// A server of its own (its own caches and leases) over `backend`.
async fn server(backend: &Backend, config: PipelineConfig, serve: ServeConfig) -> RunningServer {
    RunningServer::start(Pipeline::new(backend.clone(), config), serve)
        .await
        .expect("server starts")
}

async fn backend() -> (Embedded, Pipeline) {
    let e = Embedded::new(Names::default());
    let admin = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    admin.prepare_embedded().await.expect("prepare");
    (e, admin)
}

/// A prepared embedded backend and one server over it.
async fn started() -> (Embedded, Pipeline, RunningServer) {
    let (e, admin) = backend().await;
    let s = server(
        &admin.backend().clone(),
        PipelineConfig::default(),
        serve_config(),
    )
    .await;
    (e, admin, s)
}

async fn key(admin: &Pipeline, sender: &str, role: Role, per_minute: u32, daily: u32) -> String {
    admin
        .create_key(&KeySpec {
            sender: sender.into(),
            role,
            per_minute,
            daily,
        })
        .await
        .expect("key")
        .key
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

async fn post(addr: SocketAddr, path: &str, key: &str, extra: &[(&str, &str)], body: &str) -> Resp {
    let auth = bearer(key);
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    send(addr, "POST", path, &headers, Some(body)).await
}

async fn get(addr: SocketAddr, path: &str, key: &str) -> Resp {
    send(addr, "GET", path, &[("Authorization", &bearer(key))], None).await
}

const GIFT: &str =
    r#"{"recipient":"ada@example.com","amount":"25.00","currency":"EUR","note":"thanks"}"#;

async fn queued_ids(admin: &Pipeline) -> Vec<String> {
    queued(admin)
        .await
        .iter()
        .map(|v| v.voucher_id.to_string())
        .collect()
}

/// Every voucher on the queue (each left in flight for a minute).
async fn queued(admin: &Pipeline) -> Vec<Voucher> {
    let q = admin.queue().await.expect("queue");
    let mut vouchers = Vec::new();
    loop {
        let got = admin
            .backend()
            .queue
            .receive(
                &q,
                ReceiveRequest {
                    max: 10,
                    wait: Duration::ZERO,
                    visibility: Some(Duration::from_mins(1)),
                },
            )
            .await
            .expect("receive");
        if got.is_empty() {
            return vouchers;
        }
        for m in got {
            vouchers.push(decode(&m.body, &admin.config().limits).expect("a voucher"));
        }
    }
}

/// `promtool check metrics` over `text`, when Prometheus's promtool is installed (Debian's
/// `prometheus` package); said and skipped otherwise.
fn promtool_check(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!(
            "promtool is not installed (Debian: apt-get install prometheus): skipping its check"
        );
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );
}

fn problem(r: &Resp, status: u16) -> serde_json::Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let p = r.json();
    for field in ["type", "title", "status", "detail"] {
        assert!(p.get(field).is_some(), "{field} in {p}");
    }
    assert_eq!(p["status"], status);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gift_read_and_watch_it_persist() {
    let (_e, admin, s) = started().await;
    let ada = key(&admin, "acme", Role::Gifter, 60, 100).await;
    let other = key(&admin, "globex", Role::Gifter, 60, 100).await;
    let ops = key(&admin, "ops", Role::Operator, 60, 100).await;

    let r = post(s.addr(), "/v1/vouchers", &ada, &[], GIFT).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let body = r.json();
    let id = body["voucher_id"].as_str().expect("id").to_string();
    assert_eq!(body["state"], "queued");
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/vouchers/{id}").as_str())
    );
    assert_eq!(body["status_url"], format!("/v1/vouchers/{id}"));
    assert!(r.header("x-request-id").is_some());

    let path = format!("/v1/vouchers/{id}");
    assert_eq!(get(s.addr(), &path, &ada).await.json()["state"], "queued");
    problem(&get(s.addr(), &path, &other).await, 404);
    problem(&get(s.addr(), "/v1/vouchers/not-a-uuid", &ada).await, 404);

    let worker = admin
        .start_consumer(
            ConsumerConfig {
                until_empty: true,
                wait: Duration::from_millis(100),
                ..ConsumerConfig::default()
            },
            None,
        )
        .expect("worker");
    worker.join().await;
    let seen = get(s.addr(), &path, &ops).await.json();
    assert_eq!(seen["state"], "persisted", "{seen}");
    assert!(seen["persisted_at"].is_string(), "{seen}");
    let stored = admin
        .backend()
        .store
        .get_voucher(id.parse().expect("uuid"))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.sender, "acme", "the sender is the key's");

    // Every gift is audited with the key, the client IP and the outcome.
    s.stop().await.expect("stop");
    let audit = admin.recent_audit(20).await.expect("audit");
    let gift = audit
        .iter()
        .find(|e| e.actor.starts_with("key:") && e.actor.ends_with(" acme"))
        .expect("the gift's audit entry");
    assert_eq!(gift.client_ip.as_deref(), Some("127.0.0.1"));
    assert!(gift.detail.as_deref().is_some_and(|d| d.contains(&id)));
}

/// A status read costs at most two store reads, and another sender's voucher one (whose it is
/// is decided first); what the consumer recorded of a voucher it could not persist (the reason
/// it was dead-lettered) is read from the voucher's own row, not searched for in the failure log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_are_cheap_and_ownership_comes_first() {
    let (_e, admin, s) = started().await;
    let ada = key(&admin, "acme", Role::Gifter, 60, 100).await;
    let other = key(&admin, "globex", Role::Gifter, 60, 100).await;
    let r = post(s.addr(), "/v1/vouchers", &ada, &[], GIFT).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let path = format!(
        "/v1/vouchers/{}",
        r.json()["voucher_id"].as_str().expect("id")
    );
    let requests = admin.backend().requests.clone();
    let addr = s.addr();
    let cost = |key: String| {
        let (requests, path) = (requests.clone(), path.clone());
        async move {
            let before = requests.total();
            let read = get(addr, &path, &key).await;
            (read, requests.total() - before)
        }
    };
    let (read, reads) = cost(ada.clone()).await;
    assert_eq!((read.json()["state"].as_str(), reads), (Some("queued"), 2));
    // (Its key read once, first, as any key's first request does.)
    assert_eq!(get(addr, "/v1/me", &other).await.status, 200);
    let (read, reads) = cost(other.clone()).await;
    assert_eq!(
        (read.status, reads),
        (404, 1),
        "another sender's voucher: one read"
    );

    // A consumer that trusts nobody dead-letters it, saying why; the row says so.
    let strict = Pipeline::new(
        admin.backend().clone(),
        PipelineConfig {
            trusted_senders: Some(
                voucherdeck_core::domain::TrustedSenders::parse(&["AIDANOBODY"]).expect("ids"),
            ),
            ..PipelineConfig::default()
        },
    );
    let worker = strict
        .start_consumer(
            ConsumerConfig {
                until_empty: true,
                wait: Duration::from_millis(100),
                ..ConsumerConfig::default()
            },
            None,
        )
        .expect("worker");
    worker.join().await;
    let (read, reads) = cost(ada).await;
    let seen = read.json();
    assert_eq!(
        (seen["state"].as_str(), reads),
        (Some("dead_lettered"), 2),
        "{seen}"
    );
    assert!(
        seen["reason"]
            .as_str()
            .is_some_and(|r| r.contains("trusted_senders")),
        "{seen}"
    );
    s.stop().await.expect("stop");
}

/// Status reads are limited per key (they cost store reads): past the limit a key gets 429 with
/// Retry-After before anything is read, and other keys read on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_are_limited_per_key() {
    let (_e, admin, s) = started().await;
    let (addr, requests) = (s.addr(), admin.backend().requests.clone());
    let greedy = key(&admin, "acme", Role::Gifter, 60, 100).await;
    let calm = key(&admin, "globex", Role::Gifter, 60, 100).await;
    let path = format!("/v1/vouchers/{}", uuid::Uuid::now_v7());
    let limit = voucherdeck_core::domain::limits::API_READS_PER_MINUTE as usize;
    // The burst is the minute's allowance; it refills at limit/60 per second meanwhile.
    let mut answered = 0;
    let refused = loop {
        let before = requests.total();
        let r = get(addr, &path, &greedy).await;
        if r.status == 429 {
            assert_eq!(requests.total(), before, "refused before any read");
            break r;
        }
        assert_eq!(r.status, 404);
        answered += 1;
        assert!(answered <= 2 * limit, "never limited");
    };
    assert!(answered >= limit, "limited after {answered}");
    assert_eq!(
        problem(&refused, 429)["type"],
        "https://voucherdeck.dev/problems/reads-rate-limited"
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(get(addr, &path, &calm).await.status, 404);
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_a_problem_with_its_status() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let gifter = key(&admin, "acme", Role::Gifter, 2, 100).await;

    problem(
        &post(addr, "/v1/vouchers", &gifter, &[], "{not json").await,
        400,
    );
    let none = send(
        addr,
        "POST",
        "/v1/vouchers",
        &[("Content-Type", "application/json")],
        Some(GIFT),
    )
    .await;
    assert_eq!(
        problem(&none, 401)["detail"],
        "no API key: send `Authorization: Bearer <key>`"
    );
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    problem(
        &post(addr, "/v1/vouchers", "vdk_nope", &[], GIFT).await,
        401,
    );
    let mut forged = gifter.clone();
    forged.pop();
    forged.push(if gifter.ends_with('0') { '1' } else { '0' });
    problem(&post(addr, "/v1/vouchers", &forged, &[], GIFT).await, 401);
    problem(
        &post(
            addr,
            "/v1/vouchers/batch",
            &gifter,
            &[],
            r#"{"vouchers":[]}"#,
        )
        .await,
        403,
    );
    problem(&send(addr, "GET", "/nowhere", &[], None).await, 404);
    problem(&send(addr, "DELETE", "/v1/vouchers", &[], None).await, 405);
    let big = format!(
        r#"{{"recipient":"a@b.co","amount":"1","note":"{}"}}"#,
        "x".repeat(17_000)
    );
    problem(&post(addr, "/v1/vouchers", &gifter, &[], &big).await, 413);
    let text = send(
        addr,
        "POST",
        "/v1/vouchers",
        &[
            ("Authorization", &bearer(&gifter)),
            ("Content-Type", "text/plain"),
        ],
        Some(GIFT),
    )
    .await;
    problem(&text, 415);

    srv.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_fields_are_listed_with_their_rules() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let gifter = key(&admin, "acme", Role::Gifter, 2, 100).await;
    let bad = post(
        addr,
        "/v1/vouchers",
        &gifter,
        &[],
        r#"{"recipient":"nope","amount":"-1"}"#,
    )
    .await;
    let p = problem(&bad, 422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["recipient", "amount"], "{p}");
    assert!(
        p["errors"][1]["rule"]
            .as_str()
            .is_some_and(|r| r.contains("greater than 0")),
        "{p}"
    );
    let unknown = post(
        addr,
        "/v1/vouchers",
        &gifter,
        &[],
        r#"{"recipient":"a@b.co","amount":"1","sender":"mallory"}"#,
    )
    .await;
    assert_eq!(problem(&unknown, 422)["errors"][0]["field"], "sender");

    srv.stop().await.expect("stop");
}

/// What is not an object is not a gift; every invalid field is pointed at with a JSON Pointer
/// into the body; a gifter's batch is refused for its role whatever its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_objects_and_fields_are_pointed_at() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let gifter = key(&admin, "acme", Role::Gifter, 1_000, 1_000).await;
    let operator = key(&admin, "ops", Role::Operator, 1_000, 1_000).await;
    let first_error = |r: &Resp| problem(r, 422)["errors"][0].clone();
    for body in [
        r#"["ada@example.com","25.00"]"#,
        "false",
        "123",
        r#""gift""#,
    ] {
        let e = first_error(&post(addr, "/v1/vouchers", &gifter, &[], body).await);
        assert_eq!(
            (
                e["field"].as_str(),
                e["pointer"].as_str(),
                e["rule"].as_str()
            ),
            (Some("body"), Some(""), Some("must be a JSON object")),
            "{body}: {e}"
        );
    }
    let nested = r#"[[{"recipient":"ada@example.com","amount":"1.00"}]]"#;
    let e = first_error(&post(addr, "/v1/vouchers/batch", &operator, &[], nested).await);
    assert_eq!(e["pointer"], "", "{e}");
    for (body, pointer) in [
        (
            r#"{"recipient":"ada@example.com","amount":"1.00","x":1}"#,
            "/x",
        ),
        (r#"{"recipient":"nope","amount":"1.00"}"#, "/recipient"),
        (
            r#"{"recipient":"ada@example.com","amount":true}"#,
            "/amount",
        ),
        (
            r#"{"recipient":"ada@example.com","amount":"1.00","note":5}"#,
            "/note",
        ),
    ] {
        let e = first_error(&post(addr, "/v1/vouchers", &gifter, &[], body).await);
        assert_eq!(e["pointer"], pointer, "{body}: {e}");
    }
    let unknown_in_item = r#"{"vouchers":[{"recipient":"ada@example.com","amount":"1.00","y":2}]}"#;
    let e = first_error(&post(addr, "/v1/vouchers/batch", &operator, &[], unknown_in_item).await);
    assert_eq!(
        (e["field"].as_str(), e["pointer"].as_str()),
        (Some("y"), Some("/vouchers/0/y")),
        "{e}"
    );
    let batch = r#"{"vouchers":[{"recipient":"ada@example.com","amount":"1.00"},
        {"recipient":"ada@example.com","amount":"1.234"}]}"#;
    let r = post(addr, "/v1/vouchers/batch", &operator, &[], batch).await;
    assert_eq!(r.status, 207, "{}", r.body);
    let results = r.json()["results"].clone();
    assert_eq!(results[0]["status"], 202, "{results}");
    assert_eq!(
        results[1]["problem"]["errors"][0]["pointer"], "/vouchers/1/amount",
        "{results}"
    );
    // The role comes before the body.
    for body in [r#"{"vouchers":5}"#, "[]", "{"] {
        let r = post(addr, "/v1/vouchers/batch", &gifter, &[], body).await;
        assert_eq!(r.status, 403, "{body}: {}", r.body);
    }
    assert_eq!(
        problem(
            &post(addr, "/v1/vouchers", &gifter, &[], r#"{"a":"#).await,
            400
        )["type"]
            .as_str()
            .map(|t| t.ends_with("/malformed-json")),
        Some(true)
    );
    srv.stop().await.expect("stop");
}

/// Amounts are read exactly as written (no binary floating point between the wire and the
/// voucher), and text SQS would refuse is refused up front with 422 naming the field, spending no
/// unit of the day's cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_are_exact_and_text_is_what_sqs_accepts() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let gifter = key(&admin, "acme", Role::Gifter, 100, 2).await;
    let refused = |body: &'static str, field: &'static str, rule: &'static str| {
        let gifter = gifter.clone();
        async move {
            let r = post(addr, "/v1/vouchers", &gifter, &[], body).await;
            let p = problem(&r, 422);
            assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
            assert!(
                p["errors"][0]["rule"]
                    .as_str()
                    .is_some_and(|r| r.contains(rule)),
                "{body}: {p}"
            );
        }
    };
    refused(
        r#"{"recipient":"a@b.co","amount":19.999999999999999}"#,
        "amount",
        "at most 2 decimals",
    )
    .await;
    refused(
        r#"{"recipient":"a@b.co","amount":1e2}"#,
        "amount",
        "decimal number",
    )
    .await;
    refused(
        r#"{"recipient":"a@b.co","amount":"19.999999999999999"}"#,
        "amount",
        "at most 2 decimals",
    )
    .await;
    refused(
        r#"{"recipient":"a@b.co","amount":"5","note":"thanks\uFFFE"}"#,
        "note",
        "U+FFFE",
    )
    .await;
    refused(
        r#"{"recipient":"a@b.co","amount":"5","note":"\uFFFF"}"#,
        "note",
        "U+FFFF",
    )
    .await;
    // The refusals spent nothing: the cap of 2 still gifts 2, and an exact number is kept exactly.
    for amount in ["12.34", "0.1"] {
        let body = format!(r#"{{"recipient":"a@b.co","amount":{amount}}}"#);
        let ok = post(addr, "/v1/vouchers", &gifter, &[], &body).await;
        assert_eq!(ok.status, 202, "{}", ok.body);
    }
    let mut amounts: Vec<u64> = queued(&admin)
        .await
        .iter()
        .map(|v| v.amount.cents())
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, [10, 1234]);

    srv.stop().await.expect("stop");
}

/// A sender whose name SQS would refuse as a message group id (a space, non-ASCII, over 128
/// characters) gifts like any other: the group id is derived from the name, always valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_sender_name_makes_a_valid_message_group() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let long = "z".repeat(128);
    for sender in ["ops team", "zoë café", long.as_str(), "acme"] {
        let gifter = key(&admin, sender, Role::Gifter, 10, 10).await;
        let ok = post(addr, "/v1/vouchers", &gifter, &[], GIFT).await;
        assert_eq!(ok.status, 202, "{sender}: {}", ok.body);
    }
    let mut senders: Vec<String> = queued(&admin).await.into_iter().map(|v| v.sender).collect();
    senders.sort();
    assert_eq!(senders, ["acme", "ops team", "zoë café", long.as_str()]);

    srv.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_size_and_burst_limits() {
    let (_e, admin, srv) = started().await;
    let addr = srv.addr();
    let gifter = key(&admin, "acme", Role::Gifter, 2, 100).await;
    let long_header = "x".repeat(9000);
    let huge = post(
        addr,
        "/v1/vouchers",
        &gifter,
        &[("X-Padding", &long_header)],
        GIFT,
    )
    .await;
    problem(&huge, 431);

    // The key's burst is 2 a minute; every answer says what is left of it.
    let first = post(addr, "/v1/vouchers", &gifter, &[], GIFT).await;
    assert_eq!(first.status, 202);
    assert_eq!(first.header("ratelimit"), Some("\"burst\";r=1;t=30"));
    assert_eq!(
        post(addr, "/v1/vouchers", &gifter, &[], GIFT).await.status,
        202
    );
    let limited = post(addr, "/v1/vouchers", &gifter, &[], GIFT).await;
    problem(&limited, 429);
    let wait: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&wait), "{wait}");
    // The draft's headers: the policies that applied, and the one that is spent.
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some("\"burst\";q=2;w=60, \"daily\";q=100;w=86400"),
        "{:?}",
        limited.headers
    );
    assert_eq!(
        limited.header("ratelimit"),
        Some(format!("\"burst\";r=0;t={wait}").as_str())
    );
    srv.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_and_unreachable_queue() {
    let (_e, admin) = backend().await;
    let gifter = key(&admin, "acme", Role::Gifter, 2, 100).await;
    // A read-only server refuses writes with 403 and still answers reads.
    let ro = PipelineConfig {
        read_only: true,
        ..PipelineConfig::default()
    };
    let srv = server(&admin.backend().clone(), ro, serve_config()).await;
    problem(
        &post(srv.addr(), "/v1/vouchers", &gifter, &[], GIFT).await,
        403,
    );
    assert_eq!(
        send(srv.addr(), "GET", "/healthz", &[], None).await.status,
        200
    );
    srv.stop().await.expect("stop");

    // The queue unreachable: 503, nothing accepted.
    let mut gone = admin.backend().clone();
    gone.names.queue = "no-such-queue".into();
    let srv = server(&gone, PipelineConfig::default(), serve_config()).await;
    let k2 = key(&admin, "acme2", Role::Gifter, 60, 100).await;
    let r = post(srv.addr(), "/v1/vouchers", &k2, &[], GIFT).await;
    assert!(
        problem(&r, 503)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing was queued"))
    );
    problem(&send(srv.addr(), "GET", "/readyz", &[], None).await, 503);
    srv.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_like_stripe() {
    let (_e, admin, s) = started().await;
    let k = key(&admin, "acme", Role::Gifter, 1000, 1000).await;
    let idem = [("Idempotency-Key", "order-7")];
    let first = post(s.addr(), "/v1/vouchers", &k, &idem, GIFT).await;
    assert_eq!(first.status, 202);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post(s.addr(), "/v1/vouchers", &k, &idem, GIFT).await;
    assert_eq!(
        (again.status, again.header("idempotent-replayed")),
        (202, Some("true")),
        "the first answer again: {}",
        again.body
    );
    assert_eq!(again.json()["voucher_id"], first.json()["voucher_id"]);
    let other = post(
        s.addr(),
        "/v1/vouchers",
        &k,
        &idem,
        r#"{"recipient":"ada@example.com","amount":"26.00"}"#,
    )
    .await;
    assert!(
        problem(&other, 422)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("order-7"))
    );

    // Concurrent duplicates: each waits for the first, then answers as it did: one voucher, every
    // answer names it.
    let race = [("Idempotency-Key", "order-8")];
    let answers =
        futures::future::join_all((0..12).map(|_| post(s.addr(), "/v1/vouchers", &k, &race, GIFT)))
            .await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, 202, "{}", r.body);
            r.json()["voucher_id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let replayed = |r: &&Resp| r.header("idempotent-replayed") == Some("true");
    assert_eq!(answers.iter().filter(|r| !replayed(r)).count(), 1);
    s.stop().await.expect("stop");
    let queued = queued_ids(&admin).await;
    let race_id = ids.into_iter().next().expect("id");
    assert!(queued.contains(&race_id));
    assert!(
        queued
            .iter()
            .all(|q| *q == race_id || q == first.json()["voucher_id"].as_str().expect("id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_cap_is_exact_across_two_servers() {
    let (_e, admin) = backend().await;
    let b = admin.backend().clone();
    let (s1, s2) = (
        server(&b, PipelineConfig::default(), serve_config()).await,
        server(&b, PipelineConfig::default(), serve_config()).await,
    );
    let k = key(&admin, "acme", Role::Gifter, 100_000, 25).await;
    let calls = (0..80).map(|i| {
        let addr = if i % 2 == 0 { s1.addr() } else { s2.addr() };
        let k = k.clone();
        async move { post(addr, "/v1/vouchers", &k, &[], GIFT).await }
    });
    let answers = futures::future::join_all(calls).await;
    let accepted = answers.iter().filter(|r| r.status == 202).count();
    let capped = answers
        .iter()
        .filter(|r| {
            r.status == 429
                && r.json()["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("daily-cap"))
        })
        .count();
    assert_eq!((accepted, capped), (25, 55));
    s1.stop().await.expect("stop");
    s2.stop().await.expect("stop");
    assert_eq!(queued_ids(&admin).await.len(), 25, "never over-gifted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit_and_trusted_proxies() {
    let (_e, admin) = backend().await;
    let cfg = ServeConfig {
        per_ip_per_minute: 3,
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        ..serve_config()
    };
    let s = server(&admin.backend().clone(), PipelineConfig::default(), cfg).await;
    let from = |ip: &'static str| [("X-Forwarded-For", ip)];
    for left in ["2", "1", "0"] {
        let r = send(s.addr(), "GET", "/healthz", &from("198.51.100.1"), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-policy"), Some("\"ip\";q=3;w=60"));
        assert!(
            r.header("ratelimit")
                .is_some_and(|v| v.starts_with(&format!("\"ip\";r={left};t="))),
            "{:?}",
            r.headers
        );
    }
    let r = send(s.addr(), "GET", "/healthz", &from("198.51.100.1"), None).await;
    assert!(
        problem(&r, 429)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("198.51.100.1"))
    );
    assert!(r.header("retry-after").is_some());
    let other = send(s.addr(), "GET", "/healthz", &from("198.51.100.2"), None).await;
    assert_eq!(other.status, 200, "another client has its own limit");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_batch_with_results_per_gift() {
    let (_e, admin, s) = started().await;
    let ops = key(&admin, "ops", Role::Operator, 1000, 1000).await;
    let body = r#"{"vouchers":[
        {"recipient":"a@example.com","amount":"1"},
        {"recipient":"nope","amount":"1"},
        {"recipient":"c@example.com","amount":2.5,"idempotency_key":"b-3"}]}"#;
    let r = post(s.addr(), "/v1/vouchers/batch", &ops, &[], body).await;
    assert_eq!(r.status, 207, "{}", r.body);
    let results = r.json()["results"].as_array().expect("results").clone();
    let statuses: Vec<u64> = results
        .iter()
        .map(|x| x["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [202, 422, 202]);
    assert_eq!(results[1]["problem"]["errors"][0]["field"], "recipient");
    let too_many = format!(
        r#"{{"vouchers":[{}]}}"#,
        vec![r#"{"recipient":"a@b.co","amount":"1"}"#; 101].join(",")
    );
    let p = problem(
        &post(s.addr(), "/v1/vouchers/batch", &ops, &[], &too_many).await,
        422,
    );
    assert_eq!(p["errors"][0]["rule"], "must hold 1 to 100 gifts");
    s.stop().await.expect("stop");
    assert_eq!(queued_ids(&admin).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_the_log_refuses_are_counted_lost_in_metrics() {
    let (e, admin, s) = started().await;
    let k = key(&admin, "acme", Role::Gifter, 60, 100).await;
    let lost = |body: &str| {
        body.lines()
            .find(|l| l.starts_with("voucherdeck_audit_entries_lost_total "))
            .map(ToString::to_string)
    };
    let m = send(s.addr(), "GET", "/metrics", &[], None).await;
    assert_eq!(
        lost(&m.body).as_deref(),
        Some("voucherdeck_audit_entries_lost_total 0")
    );
    // A refusal no retry can change (a role without the right): lost at once, not retried.
    e.audit.fail_every_write(Some(BackendError::AccessDenied(
        "dynamodb:PutItem on the audit table (simulated)".into(),
    )));
    for _ in 0..3 {
        assert_eq!(
            post(s.addr(), "/v1/vouchers", &k, &[], GIFT).await.status,
            202
        );
    }
    let mut seen = None;
    for _ in 0..100 {
        let m = send(s.addr(), "GET", "/metrics", &[], None).await;
        seen = lost(&m.body);
        if seen.as_deref() == Some("voucherdeck_audit_entries_lost_total 3") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen.as_deref(),
        Some("voucherdeck_audit_entries_lost_total 3")
    );
    s.stop().await.expect("stop");
    let published = e.metrics.intake_published();
    assert_eq!(published.audit_lost, 3, "published when it stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let (_e, admin, s) = started().await;
    let k = key(&admin, "acme", Role::Gifter, 60, 100).await;
    post(s.addr(), "/v1/vouchers", &k, &[], GIFT).await;
    post(s.addr(), "/v1/vouchers", "vdk_bad", &[], GIFT).await;
    assert_eq!(
        send(s.addr(), "GET", "/healthz", &[], None).await.status,
        200
    );
    assert_eq!(
        send(s.addr(), "GET", "/readyz", &[], None).await.json()["status"],
        "ready"
    );
    let m = send(s.addr(), "GET", "/metrics", &[], None).await;
    for line in [
        "voucherdeck_api_gifts_accepted_total 1",
        "voucherdeck_api_responses_total{status=\"401\"} 1",
        "voucherdeck_sqs_send_batch_size_count 1",
        "voucherdeck_api_request_duration_seconds_bucket",
        "voucherdeck_api_in_flight_requests",
    ] {
        assert!(m.body.contains(line), "{line} in\n{}", m.body);
    }
    // Prometheus text 0.0.4 by default; OpenMetrics when asked for.
    assert_eq!(
        m.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        m.body
            .contains("# TYPE voucherdeck_api_gifts_accepted_total counter")
            && !m.body.contains("# EOF"),
        "{}",
        m.body
    );
    promtool_check(&m.body);
    let accept = [("Accept", "application/openmetrics-text; version=1.0.0")];
    let om = send(s.addr(), "GET", "/metrics", &accept, None).await;
    assert!(
        om.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text"))
            && om.body.ends_with("# EOF\n"),
        "{:?} {}",
        om.headers,
        om.body
    );
    let doc = send(s.addr(), "GET", "/openapi.json", &[], None)
        .await
        .json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{doc}"
    );
    for path in ["/v1/vouchers", "/v1/vouchers/batch", "/v1/vouchers/{id}"] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    s.stop().await.expect("stop");
}

/// A client checks its key and learns its limits without gifting; no key, no answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reads_itself() {
    let (_e, admin, s) = started().await;
    let k = key(&admin, "acme", Role::Gifter, 30, 500).await;
    let me = get(s.addr(), "/v1/me", &k).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let v = me.json();
    let id = k.split('_').nth(1).expect("vdk_<id>_<secret>");
    assert_eq!(v["id"], id, "{v}");
    assert_eq!(
        (v["sender"].as_str(), v["role"].as_str()),
        (Some("acme"), Some("gifter"))
    );
    assert_eq!(
        (v["per_minute"].as_u64(), v["daily"].as_u64()),
        (Some(30), Some(500))
    );
    assert!(
        v["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    assert!(v.get("hash").is_none() && !me.body.contains(&k), "{v}");
    problem(&send(s.addr(), "GET", "/v1/me", &[], None).await, 401);
    problem(&get(s.addr(), "/v1/me", "vdk_made_up").await, 401);
    // A key with a wrong checksum (one digit off) is refused without a store read.
    let last = k.chars().last().expect("a digit");
    let typo = format!(
        "{}{}",
        &k[..k.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let requests = admin.backend().requests.clone();
    let before = requests.total();
    problem(&get(s.addr(), "/v1/me", &typo).await, 401);
    assert_eq!(
        requests.total(),
        before,
        "no lookup for a key that is not one"
    );
    // A key made before checksums still works.
    let old = key(&admin, "legacy", Role::Gifter, 30, 500).await;
    let unchecked = &old[..old.len() - 8];
    assert_eq!(get(s.addr(), "/v1/me", unchecked).await.status, 200);
    let doc = send(s.addr(), "GET", "/openapi.json", &[], None)
        .await
        .json();
    assert!(
        doc["paths"]["/v1/me"]["get"].is_object(),
        "{}",
        doc["paths"]
    );
    s.stop().await.expect("stop");
}

/// SIGTERM-like stop while gifts are in flight: every 202 is on the queue, nothing queued went
/// unanswered, and the server stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_requests_in_flight_loses_nothing() {
    let (e, admin, s) = started().await;
    let k = key(&admin, "acme", Role::Gifter, 100_000, 100_000).await;
    e.store.simulate_slow_writes(Duration::from_millis(1));
    let addr = s.addr();
    let calls: Vec<_> = (0..60)
        .map(|_| {
            let k = k.clone();
            tokio::spawn(async move {
                let auth = bearer(&k);
                try_send(
                    addr,
                    "POST",
                    "/v1/vouchers",
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/json"),
                    ],
                    Some(GIFT.as_bytes()),
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(15)).await;
    tokio::time::timeout(Duration::from_secs(20), s.stop())
        .await
        .expect("stops")
        .expect("clean");
    let mut accepted = Vec::new();
    for c in calls {
        if let Some(r) = c.await.expect("task") {
            assert!(matches!(r.status, 202 | 503), "{} {}", r.status, r.body);
            if r.status == 202 {
                accepted.push(r.json()["voucher_id"].as_str().expect("id").to_string());
            }
        }
    }
    let mut queued = queued_ids(&admin).await;
    queued.sort();
    accepted.sort();
    assert_eq!(queued, accepted, "exactly the answered gifts are queued");
    assert!(
        try_send(addr, "GET", "/healthz", &[], None).await.is_none(),
        "stopped"
    );
}
