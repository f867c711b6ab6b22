//! A DLQ of any size, on moto: paging over more than a thousand messages (every page, no message
//! twice, actions on a later page), export to JSON Lines leaving the messages in place, edit and
//! resend (sent first, deleted after, audited), and redrive by kind and reason after a dry-run count.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/procs.rs"]
mod procs;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

use voucherdeck_core::backend::{Backend, Names};
use voucherdeck_core::domain::{AuditAction, AuditOutcome};
use voucherdeck_core::ports::{OutgoingMessage, QueueRef, ReceiveRequest};
use voucherdeck_pipeline::{DlqFilter, GiftError, Pipeline, PipelineConfig};

/// Sends `n` messages to `queue` in batches of 10; message `i` gets `attrs(i)`.
async fn seed(
    backend: &Backend,
    queue: &QueueRef,
    n: usize,
    body: impl Fn(usize) -> String,
    attrs: impl Fn(usize) -> BTreeMap<String, String>,
) {
    for start in (0..n).step_by(10) {
        let batch: Vec<OutgoingMessage> = (start..(start + 10).min(n))
            .map(|i| OutgoingMessage {
                id: (i - start).to_string(),
                body: body(i),
                attributes: attrs(i),
                delay: None,
                group: None,
                dedup: None,
            })
            .collect();
        let out = backend.queue.send_batch(queue, &batch).await.expect("send");
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
}

fn diagnosis(kind: &str, reason: &str, source: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("voucherdeck.error_kind".to_string(), kind.to_string()),
        ("voucherdeck.error_message".to_string(), reason.to_string()),
        ("voucherdeck.source_queue".to_string(), source.to_string()),
    ])
}

async fn visible(backend: &Backend, q: &QueueRef) -> u64 {
    backend.queue.stats(q).await.expect("stats").visible
}

/// The binary against this moto and these names, with a clean environment (no editor either).
fn cli(env: &procs::Env, args: &[&str]) -> Command {
    let mut c = Command::from_std(env.command(args));
    c.env_remove("EDITOR").env_remove("VISUAL");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_covers_a_dlq_of_over_a_thousand_messages_and_acts_on_any_page() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("paging");
    let backend = moto::aws_backend(&server, names.clone()).await;
    let p = Pipeline::new(backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    let dlq = p.dlq().await.expect("dlq");
    let started = Instant::now();
    seed(
        &backend,
        &dlq,
        1_010,
        |i| format!("poison {i}"),
        |_| BTreeMap::new(),
    )
    .await;
    let seeded = started.elapsed();

    let mut session = p.open_dlq_session().await.expect("session");
    assert_eq!(session.approx_total(), Some(1_010));
    let mut pages: Vec<Vec<String>> = Vec::new();
    while !session.exhausted() {
        let page = session.load(100, &mut |_| {}).await.expect("page");
        if !page.is_empty() {
            pages.push(page.into_iter().map(|m| m.message_id).collect());
        }
    }
    let read = started.elapsed().saturating_sub(seeded);
    println!("seeded 1,010 in {seeded:?}; paged through them in {read:?}");
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [vec![100; 10], vec![10]].concat());
    let distinct: HashSet<&String> = pages.iter().flatten().collect();
    assert_eq!(distinct.len(), 1_010, "no message twice across pages");
    assert_eq!(session.loaded(), 1_010);

    // Earlier pages stay hidden while later ones are read; an action on the last page uses the
    // session's own receipt.
    assert_eq!(visible(&backend, &dlq).await, 0);
    let chosen = vec![pages[10][3].clone(), pages[0][0].clone()];
    assert_eq!(session.delete(&chosen, None).await.expect("delete"), 2);
    session.release().await;
    assert_eq!(
        visible(&backend, &dlq).await,
        1_008,
        "released, two deleted"
    );

    // Export part of it from the command line: written as JSON Lines, left in the DLQ.
    let env = procs::Env::new(&server.endpoint(), names.clone(), "");
    let file = env.path("dlq.jsonl");
    let path = file.to_str().expect("utf8").to_string();
    cli(&env, &["dlq", "export", "--limit", "150", &path])
        .assert()
        .success()
        .stderr(predicate::str::contains("exported 150 message(s)"));
    let text = std::fs::read_to_string(&file).expect("export");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 150);
    assert!(
        lines
            .iter()
            .all(|l| l["body"].as_str().is_some_and(|b| b.starts_with("poison")))
    );
    assert_eq!(visible(&backend, &dlq).await, 1_008, "still in the DLQ");
    cli(&env, &["dlq", "export", "--all", &path])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must not exist yet"));
}

#[tokio::test]
async fn edit_and_resend_sends_first_deletes_after_and_is_audited() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("resend");
    let backend = moto::aws_backend(&server, names.clone()).await;
    let p = Pipeline::new(backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    let (q, dlq) = (p.queue().await.expect("q"), p.dlq().await.expect("dlq"));
    let body = r#"{"v":1,"voucher_id":"0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80","created_at":"2026-01-01T00:00:00.000Z","recipient":{"kind":"email","address":"eve@example.com"},"amount":"99999.00","currency":"USD","sender":"mallory"}"#;
    let attrs = |i: usize| {
        let source = if i == 0 {
            names.queue.as_str()
        } else {
            "no-such-queue"
        };
        diagnosis("invalid", "amount must be at most 1000", source)
    };
    seed(&backend, &dlq, 2, |_| body.to_string(), attrs).await;

    let mut session = p.open_dlq_session().await.expect("session");
    let loaded = session.load(10, &mut |_| {}).await.expect("load");
    let id_of = |source: &str| {
        loaded
            .iter()
            .find(|m| m.failure.as_ref().and_then(|f| f.source_queue()) == Some(source))
            .map(|m| m.message_id.clone())
            .expect("message")
    };
    let (good, orphan) = (id_of(&names.queue), id_of("no-such-queue"));
    let mut gift = session.salvage(&good).expect("salvaged");
    assert_eq!(gift.amount, "99999.00");

    // Checked like a gift: the amount is refused, naming the field; nothing is sent.
    let refused = session
        .resend(&good, &gift, None)
        .await
        .expect_err("too much");
    assert!(
        matches!(&refused, GiftError::Invalid(e) if e.to_string().contains("amount")),
        "{refused}"
    );
    gift.amount = "25.00".into();
    let receipt = session.resend(&good, &gift, None).await.expect("resent");
    assert!(receipt.original_deleted);
    assert_eq!(receipt.queue, names.queue);
    assert_eq!(
        receipt.voucher_id.to_string(),
        "0190b6d8-7f3a-7c1e-9d2b-3a4c5d6e7f80",
        "the same voucher: the consumer stores it once"
    );
    // A send that fails leaves the original where it was.
    let failed = session
        .resend(&orphan, &gift, None)
        .await
        .expect_err("no queue");
    assert!(matches!(failed, GiftError::Backend(_)), "{failed}");
    session.release().await;

    let got = backend
        .queue
        .receive(&q, ReceiveRequest::new(10, Duration::from_secs(1)))
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body.contains("\"amount\":\"25.00\""),
        "{}",
        got[0].body
    );
    assert!(
        !got[0].attributes.contains_key("voucherdeck.error_kind"),
        "a fresh start"
    );
    assert_eq!(
        visible(&backend, &dlq).await,
        1,
        "only the one that could not be sent"
    );
    assert_three_resends_audited(&p).await;
    resend_from_the_command_line(&server, &names, &orphan);
}

/// Each resend, refused, done or failed, is in the audit log.
async fn assert_three_resends_audited(p: &Pipeline) {
    let audit = p.recent_audit(20).await.expect("audit");
    let outcomes: Vec<AuditOutcome> = audit
        .iter()
        .filter(|e| e.action == AuditAction::DlqResend)
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes.len(), 3);
    for o in [
        AuditOutcome::Refused,
        AuditOutcome::Ok,
        AuditOutcome::Failed,
    ] {
        assert!(outcomes.contains(&o), "{outcomes:?}");
    }
}

/// The same from the command line, with the corrected gift in a file.
fn resend_from_the_command_line(server: &moto::MotoServer, names: &Names, orphan: &str) {
    let env = procs::Env::new(&server.endpoint(), names.clone(), "");
    let fixed = env.path("gift.json");
    let fixed = fixed.to_str().expect("utf8");
    std::fs::write(
        fixed,
        r#"{"recipient":"eve@example.com","amount":"5","sender":"ops"}"#,
    )
    .expect("write");
    cli(&env, &["dlq", "resend", orphan, "--file", fixed])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-queue"));
    cli(&env, &["dlq", "resend", "nope", "--file", fixed])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_by_kind_and_reason_counts_first_then_moves_only_those() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("filter");
    let backend = moto::aws_backend(&server, names.clone()).await;
    let p = Pipeline::new(backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");
    let (q, dlq) = (p.queue().await.expect("q"), p.dlq().await.expect("dlq"));
    let queue = names.queue.clone();
    seed(
        &backend,
        &dlq,
        30,
        |i| format!("body {i}"),
        |i| match i % 3 {
            0 => diagnosis("schema", "message version 2 is not supported", &queue),
            1 => diagnosis("invalid", "amount must be at most 1000", &queue),
            _ => diagnosis("invalid", "currency XYZ is not ISO 4217", &queue),
        },
    )
    .await;

    let env = procs::Env::new(&server.endpoint(), names.clone(), "");
    let run = |args: &[&str]| cli(&env, args);
    run(&["redrive", "--kind", "bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must be one of not_json"));
    run(&[
        "redrive",
        "--kind",
        "invalid",
        "--reason",
        "AMOUNT",
        "--dry-run",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("dry run: 10 of 30 messages"));
    assert_eq!(visible(&backend, &dlq).await, 30, "a dry run moves nothing");
    let filter = DlqFilter {
        kind: Some("invalid".into()),
        ..DlqFilter::default()
    };
    assert_eq!(p.count_dlq(&filter).await.expect("count").matched, 20);

    run(&[
        "redrive", "--kind", "invalid", "--reason", "amount", "--json",
    ])
    .assert()
    .success();
    assert_eq!(visible(&backend, &dlq).await, 20);
    assert_eq!(visible(&backend, &q).await, 10);
    let moved = backend
        .queue
        .receive(&q, ReceiveRequest::new(10, Duration::ZERO))
        .await
        .expect("receive");
    let bodies: Vec<usize> = moved
        .iter()
        .filter_map(|m| m.body.strip_prefix("body ")?.parse().ok())
        .collect();
    assert!(bodies.iter().all(|i| i % 3 == 1), "{bodies:?}");

    // The whole DLQ exported from the command line.
    let file = env.path("all.jsonl");
    run(&["dlq", "export", "--all", file.to_str().expect("utf8")])
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).expect("export");
    assert_eq!(text.lines().count(), 20);
    assert!(text.contains("\"failure\":{\"kind\":\"schema\""), "{text}");
    assert_eq!(visible(&backend, &dlq).await, 20);
}
