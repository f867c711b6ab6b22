//! The TUI's effects against the embedded backend: keys go through `update`, effects run as tasks on
//! the real services, answers come back as messages. No terminal involved.

mod tui_fixture;

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::KeyCode;
use tokio::sync::mpsc;

use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::AuditAction;
use voucherdeck_core::ports::{OutgoingMessage, QueueRef};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{MonitorConfig, Pipeline, PipelineConfig, RedriveRequest, RedriveScope};
use voucherdeck_tui::app::FollowState;
use voucherdeck_tui::effects::{Effects, EffectsConfig};
use voucherdeck_tui::run::app_info;
use voucherdeck_tui::{App, Effect, Msg, TuiOptions, update};

use tui_fixture::{ch, code};

struct Rig {
    app: App,
    effects: Effects,
    rx: mpsc::Receiver<Msg>,
    pipeline: Pipeline,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn new() -> Rig {
        let embedded = Embedded::new(Names::default());
        let pipeline = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
        pipeline.provision().await.expect("provision");
        let dir = tempfile::tempdir().expect("temp dir");
        let (tx, rx) = mpsc::channel(1024);
        let monitor = MonitorConfig {
            depth_every: Duration::from_millis(100),
            failures_every: Duration::from_millis(100),
            ..MonitorConfig::default()
        };
        let effects = Effects::start(
            pipeline.clone(),
            tx,
            EffectsConfig {
                worker: true,
                worker_paused: false,
                worker_concurrency: 2,
                monitor,
                export_dir: dir.path().to_path_buf(),
            },
        );
        let app = App::new(app_info(&pipeline, &TuiOptions::default(), None));
        Rig {
            app,
            effects,
            rx,
            pipeline,
            _dir: dir,
        }
    }

    /// Sends a message through `update` and runs its effects.
    fn send(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = update(&mut self.app, msg);
        for e in effects.clone() {
            self.effects.run(e);
        }
        effects
    }

    /// Puts messages with these bodies straight into a queue, past the producer.
    async fn send_raw(&self, queue: &QueueRef, bodies: &[String]) {
        let msgs: Vec<OutgoingMessage> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| OutgoingMessage {
                id: i.to_string(),
                body: body.clone(),
                attributes: BTreeMap::new(),
                delay: None,
                group: None,
                dedup: None,
            })
            .collect();
        self.pipeline
            .backend()
            .queue
            .send_batch(queue, &msgs)
            .await
            .expect("send raw messages");
    }

    /// Waits for a toast that starts with `prefix`; returns its text.
    async fn until_toast(&mut self, what: &str, prefix: &str) -> String {
        self.until(what, |a| {
            a.toast.as_ref().is_some_and(|t| t.text.starts_with(prefix))
        })
        .await;
        self.app
            .toast
            .as_ref()
            .map(|t| t.text.clone())
            .unwrap_or_default()
    }

    /// Feeds background messages into the app until the audit log holds `n` entries of `action`
    /// with this note (or fails after 10 s).
    async fn until_audited(&mut self, action: AuditAction, note: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let audit = self.pipeline.recent_audit(100).await.expect("audit");
            let noted = audit
                .iter()
                .filter(|e| e.action == action && e.note.as_deref() == Some(note))
                .count();
            if noted == n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{noted} {action} entries noted {note:?}: {audit:#?}"
            );
            if let Ok(Some(msg)) =
                tokio::time::timeout(Duration::from_millis(100), self.rx.recv()).await
            {
                self.send(msg);
            }
        }
    }

    /// Feeds background messages into the app until `done` holds (or fails after 10 s).
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(&self.app) {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out waiting for {what}: worker {:?}, follow {:?}, failures {:?}",
                        self.app.view().consumer.latest(),
                        self.app.view().follow,
                        self.app.view().feeds.failures.records.first()
                    )
                })
                .expect("channel open");
            self.send(msg);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gift_from_the_form_is_queued_then_persisted() {
    let mut rig = Rig::new().await;
    rig.until("a depth poll and a worker sample", |a| {
        a.view().feeds.depth.latest().is_some() && a.view().consumer.latest().is_some()
    })
    .await;
    rig.send(ch('n'));
    for (i, text) in ["ada@example.com", "12", "", "grace"].iter().enumerate() {
        if i > 0 {
            rig.send(code(KeyCode::Tab));
        }
        for c in text.chars() {
            rig.send(tui_fixture::key_event(
                KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ));
        }
    }
    let effects = rig.send(code(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::Gift(_)]),
        "{effects:?}"
    );
    rig.until("the gift's answer", |a| a.view().follow.is_some())
        .await;
    rig.until("the worker to persist it", |a| {
        matches!(
            a.view().follow.as_ref().map(|f| &f.state),
            Some(FollowState::Persisted { .. })
        )
    })
    .await;
    rig.effects.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_lands_in_the_dlq_and_the_browser_can_export_and_delete_it() {
    let mut rig = Rig::new().await;
    let queue = rig.pipeline.queue().await.expect("queue");
    rig.send_raw(&queue, &["not json".to_string()]).await;
    rig.until("the failure to be recorded", |a| {
        !a.view().feeds.failures.records.is_empty()
    })
    .await;
    rig.until("the DLQ to show it", |a| {
        a.view()
            .feeds
            .depth
            .latest()
            .is_some_and(|p| p.dlq.visible + p.dlq.in_flight > 0)
    })
    .await;

    assert_eq!(rig.send(ch('d')).len(), 1, "opening the browser peeks");
    rig.until("the peek", |a| !a.view().dlq.loading).await;
    assert_eq!(
        rig.app.view().dlq.entries.len(),
        1,
        "{:?}",
        rig.app.view().dlq.error
    );
    let entry = rig.app.view().dlq.entries[0].clone();
    assert_eq!(entry.body, "not json");
    assert_eq!(
        entry
            .failure
            .as_ref()
            .map(voucherdeck_pipeline::DlqFailure::kind),
        Some("not_json")
    );

    rig.send(ch('e'));
    let toast = rig.until_toast("the export", "exported").await;
    let path = toast.split(" to ").nth(1).expect("path").to_string();
    let text = std::fs::read_to_string(&path).expect("export file");
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"message_id\""));
    // A second export in the same second gets a new name; nothing is overwritten.
    rig.app.toast = None;
    rig.send(ch('e'));
    let toast = rig.until_toast("the second export", "exported").await;
    assert!(toast.ends_with("-1.jsonl"), "{toast:?}");

    rig.send(code(KeyCode::Char(' ')));
    rig.send(ch('x'));
    rig.send(code(KeyCode::Tab));
    for c in "not a gift, nothing to save".chars() {
        rig.send(ch(c));
    }
    let effects = rig.send(code(KeyCode::Enter));
    assert!(matches!(effects.as_slice(), [Effect::DeleteDlq { .. }]));
    let toast = rig.until_toast("the delete", "deleted").await;
    assert!(toast.starts_with("deleted 1 of 1"), "{toast:?}");
    assert!(rig.app.view().dlq.entries.is_empty());
    // The audit log, read when opened, shows the delete: who, what, how many.
    assert_eq!(rig.send(ch('A')), vec![Effect::RefreshAudit]);
    rig.until("the audit log to show the delete", |a| {
        a.view().feeds.audit.entries.iter().any(|e| {
            e.action == AuditAction::DlqDelete
                && e.count == 1
                && e.actor.starts_with("local:")
                && e.note.as_deref() == Some("not a gift, nothing to save")
        })
    })
    .await;
    rig.effects.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_pause_and_concurrency_reach_the_consumer() {
    let mut rig = Rig::new().await;
    rig.until("a worker sample", |a| a.view().consumer.latest().is_some())
        .await;
    rig.send(ch('w'));
    rig.send(ch('+'));
    rig.until("the worker to report paused with 3 loops", |a| {
        a.view()
            .consumer
            .latest()
            .is_some_and(|c| c.paused && c.concurrency == 3)
    })
    .await;
    rig.effects.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_all_runs_to_completion_with_progress() {
    let mut rig = Rig::new().await;
    // Put two messages straight into the DLQ.
    let dlq = rig.pipeline.dlq().await.expect("dlq");
    let bodies: Vec<String> = (0..2).map(|i| format!("{{\"v\":9,\"n\":{i}}}")).collect();
    rig.send_raw(&dlq, &bodies).await;
    // The worker would send them straight back to the DLQ: pause it.
    rig.until("a worker sample", |a| a.view().consumer.latest().is_some())
        .await;
    rig.send(ch('w'));
    rig.send(ch('r'));
    rig.send(code(KeyCode::Enter));
    let effects = rig.send(ch('y'));
    assert!(matches!(effects.as_slice(), [Effect::StartRedrive(_)]));
    rig.until("the redrive to finish", |a| {
        a.view().redrive.as_ref().is_some_and(|r| !r.is_running())
    })
    .await;
    let status = rig
        .app
        .view()
        .redrive
        .as_ref()
        .and_then(|r| r.status.clone())
        .expect("status");
    assert_eq!(status.moved, 2, "{status:?}");
    rig.effects.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_ends_a_copy_redrive_and_releases_what_it_holds() {
    let mut rig = Rig::new().await;
    rig.until("a worker sample", |a| a.view().consumer.latest().is_some())
        .await;
    rig.send(ch('w'));
    let dlq = rig.pipeline.dlq().await.expect("dlq");
    let queue = rig.pipeline.queue().await.expect("queue");
    // Messages the copy does not move are held (hidden) until it ends: they come first.
    let keep: Vec<String> = (0..5).map(|i| format!("keep me #{i}")).collect();
    rig.send_raw(&dlq, &keep).await;
    let bodies: Vec<String> = (0..10).map(|i| format!("copy me #{i}")).collect();
    rig.send_raw(&dlq, &bodies).await;
    // A copy at one message a second: still going when the dashboard quits.
    rig.effects.run(Effect::StartRedrive(RedriveRequest {
        scope: RedriveScope::Match("copy me".into()),
        destination: None,
        rate: Some(1),
        note: None,
    }));
    let stats = |q: QueueRef| {
        let p = rig.pipeline.clone();
        async move { p.backend().queue.stats(&q).await.expect("stats") }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stats(queue.clone()).await.visible == 0 {
        assert!(tokio::time::Instant::now() < deadline, "nothing moved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::timeout(Duration::from_secs(10), rig.effects.shutdown())
        .await
        .expect("quitting waits only for the copy to end");
    let (q, d) = (stats(queue.clone()).await, stats(dlq.clone()).await);
    assert_eq!(d.in_flight, 0, "the copy left DLQ messages hidden: {d:?}");
    assert!(q.visible < 10, "the copy was not ended: {q:?}");
    assert_eq!(
        q.visible + q.in_flight + d.visible,
        15,
        "nothing lost: {q:?} {d:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redrive_forms_note_and_a_purges_note_reach_the_audit_log() {
    let mut rig = Rig::new().await;
    rig.until("a depth poll", |a| a.view().feeds.depth.latest().is_some())
        .await;
    let dlq = rig.pipeline.dlq().await.expect("dlq");
    rig.send_raw(&dlq, &["not json".to_string()]).await;
    rig.send(ch('r'));
    // Destination, scope, rate, then the note.
    for _ in 0..3 {
        rig.send(code(KeyCode::Tab));
    }
    for c in "replay after the parser fix".chars() {
        rig.send(ch(c));
    }
    rig.send(code(KeyCode::Enter));
    let effects = rig.send(ch('y'));
    assert!(
        matches!(effects.as_slice(), [Effect::StartRedrive(_)]),
        "{effects:?}"
    );
    rig.until_audited(AuditAction::Redrive, "replay after the parser fix", 2)
        .await;
    rig.until("the redrive to end on screen", |a| {
        a.view()
            .redrive
            .as_ref()
            .is_some_and(|r| r.finished_at.is_some())
    })
    .await;

    rig.send(ch('P'));
    for c in "vouchers-dlq".chars() {
        rig.send(ch(c));
    }
    rig.send(code(KeyCode::Tab));
    for c in "drill: empty it".chars() {
        rig.send(ch(c));
    }
    let effects = rig.send(code(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::PurgeDlq { note: Some(_) }]),
        "{effects:?}"
    );
    rig.until_audited(AuditAction::DlqPurge, "drill: empty it", 1)
        .await;
    rig.effects.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_a_dlq_past_the_browsers_body_budget_writes_every_body() {
    let mut rig = Rig::new().await;
    let dlq = rig.pipeline.dlq().await.expect("dlq");
    let n = 40;
    for i in 0..n {
        let body = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(1_000_000));
        rig.send_raw(&dlq, &[body]).await;
    }
    rig.send(ch('d'));
    rig.until("the peek", |a| {
        !a.view().dlq.loading && !a.view().dlq.entries.is_empty()
    })
    .await;
    let d = &rig.app.view().dlq;
    assert_eq!(d.entries.len(), n);
    assert!(d.bodies_dropped() > 0, "40 MB is past the 32 MiB kept");

    rig.send(ch('e'));
    let toast = rig.until_toast("the export", "exported").await;
    assert!(toast.starts_with(&format!("exported {n} ")), "{toast}");
    let path = toast.split(" to ").nth(1).expect("path").to_string();
    let text = std::fs::read_to_string(&path).expect("export file");
    let mut seen: Vec<u64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            assert!(v.get("body_dropped").is_none(), "whole: {l:.60}");
            let body: serde_json::Value =
                serde_json::from_str(v["body"].as_str().expect("body")).expect("body json");
            body["n"].as_u64().expect("n")
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..n as u64).collect::<Vec<_>>(), "each once, whole");
    assert_eq!(
        rig.app.view().dlq.entries.len(),
        n,
        "the list keeps each once"
    );
    rig.effects.shutdown().await;
}
