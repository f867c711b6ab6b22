//! `update`: the only place `App` changes. Synchronous, no I/O, no clock: time comes as `Msg::Tick`.

use std::collections::BTreeSet;

use uuid::Uuid;

use voucherdeck_core::domain::{Timestamp, text::sanitize};
use voucherdeck_pipeline::{
    DlqMessage, GiftError, GiftReceipt, MonitorUpdate, RedriveProgress, RedriveStatus,
};

use super::app::{
    App, CONSUMER_MAX_SAMPLES, ERROR_TOAST_FOR, Follow, FollowState, Level, PipelineView,
    RECENTLY_PERSISTED_MAX, TOAST_FOR,
};
use super::browser_update;
use super::feeds::News;
use super::focus::Pane;
use super::keys::on_key;
use super::modal::Modal;
use super::msg::{Effect, Msg};

/// Applies one message; returns the effects to run. What a message says about a pipeline goes to
/// the pipeline on screen, unless it is tagged with another (`Msg::For`).
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let active = app.active;
    apply(app, active, msg)
}

/// Applies `msg`: what it says about a pipeline to pipeline `at`'s view (a valid index), the rest
/// (keys, the clock, the status line, modals) to the whole dashboard.
fn apply(app: &mut App, at: usize, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => return on_key(app, &key),
        Msg::Redrive(status) => return on_redrive(app, at, status),
        Msg::Resize => {}
        Msg::Tick(now) => on_tick(app, now),
        Msg::Monitor(update) => return on_monitor(app, at, update),
        Msg::Consumer(sample) => {
            let samples = &mut app.pipelines[at].consumer.samples;
            samples.push_back(sample);
            while samples.len() > CONSUMER_MAX_SAMPLES {
                samples.pop_front();
            }
        }
        Msg::Persisted { voucher_id, .. } => {
            on_persisted(&mut app.pipelines[at], voucher_id, app.now);
        }
        Msg::Failed(record) => {
            let view = &mut app.pipelines[at];
            if let Some(f) = view
                .follow
                .as_mut()
                .filter(|f| Some(f.voucher_id) == record.voucher_id)
            {
                f.state = FollowState::failed(&record);
            }
            view.feeds.failures.merge(vec![record]);
        }
        Msg::Gifted(result) => on_gifted(app, at, result),
        Msg::DlqPeeked(result) => on_peeked(app, at, result),
        Msg::DlqMore { result, exhausted } => browser_update::on_more(app, at, result, exhausted),
        Msg::DlqProgress(n) => app.pipelines[at].dlq.progress = Some(n),
        Msg::Edited { message_id, result } => {
            return browser_update::on_edited(app, at, message_id, result);
        }
        Msg::Resent { message_id, result } => {
            browser_update::on_resent(app, at, &message_id, result);
        }
        Msg::DlqCounted(result) => browser_update::on_counted(app, result),
        Msg::DlqDeleted { ids, result } => on_deleted(app, at, &ids, result),
        Msg::Exported(result) => match result {
            Ok((path, n)) => app.toast(
                Level::Success,
                format!("exported {n} messages to {}", path.display()),
            ),
            Err(e) => app.toast(Level::Error, format!("export failed: {}", sanitize(&e))),
        },
        Msg::Purged(result) => on_purged(app, at, result),
        Msg::For { index, msg } => return on_pipeline(app, index, *msg),
    }
    Vec::new()
}

/// A message about one pipeline: applied to its own view, on screen or not; what it asks for is
/// done on that pipeline. Keys and the clock are the whole dashboard's whatever the tag, and a
/// message tagged twice goes by its inner tag.
fn on_pipeline(app: &mut App, index: usize, msg: Msg) -> Vec<Effect> {
    let dashboard_wide = matches!(
        msg,
        Msg::Key(_) | Msg::Resize | Msg::Tick(_) | Msg::For { .. }
    );
    if index == app.active || dashboard_wide {
        return update(app, msg);
    }
    if index >= app.pipelines.len() {
        return Vec::new();
    }
    apply(app, index, msg)
        .into_iter()
        .map(|effect| Effect::On {
            index,
            effect: Box::new(effect),
        })
        .collect()
}

/// The worker persisted a voucher: remembered for a gift answer still to come, and the followed
/// voucher's end when it is that one.
fn on_persisted(view: &mut PipelineView, voucher_id: Uuid, now: Timestamp) {
    view.recently_persisted.push_back((voucher_id, now));
    while view.recently_persisted.len() > RECENTLY_PERSISTED_MAX {
        view.recently_persisted.pop_front();
    }
    if let Some(f) = view.follow.as_mut().filter(|f| f.voucher_id == voucher_id) {
        f.state = FollowState::Persisted { at: now };
    }
}

/// A poll landed: alarms that fired or cleared are said in the status line; they and DLQ
/// arrivals ring the bell when asked (`--bell`).
fn on_monitor(app: &mut App, at: usize, update: MonitorUpdate) -> Vec<Effect> {
    let mut ring = false;
    for news in app.pipelines[at].feeds.apply(update) {
        ring = true;
        match news {
            News::AlarmFired(name) => app.toast(Level::Error, format!("ALARM: {name}")),
            News::AlarmCleared(name) => {
                app.toast(Level::Success, format!("{name} is OK again"));
            }
            News::DlqArrivals(_) => {}
        }
    }
    let view = &mut app.pipelines[at];
    // The Intake pane goes when no server published in the last hour; the focus goes on.
    if view.focus == Pane::Intake && !view.intake_shown() {
        view.focus = Pane::Intake.next_shown(false);
    }
    if ring && view.info.bell {
        vec![Effect::Bell]
    } else {
        Vec::new()
    }
}

fn on_purged(app: &mut App, at: usize, result: Result<(), String>) {
    match result {
        Ok(()) => {
            let view = &mut app.pipelines[at];
            view.dlq.entries.clear();
            view.dlq.selected.clear();
            view.dlq.cursor = 0;
            let text = format!("purged {}", view.info.names.dlq);
            app.toast(Level::Success, text);
        }
        Err(e) => app.toast(Level::Error, format!("purge failed: {}", sanitize(&e))),
    }
}

fn on_tick(app: &mut App, now: Timestamp) {
    app.now = now;
    app.started_at.get_or_insert(now);
    app.ticks += 1;
    if let Some(t) = &app.toast {
        let keep = if t.level == Level::Error {
            ERROR_TOAST_FOR
        } else {
            TOAST_FOR
        };
        if t.at.until(now) > keep {
            app.toast = None;
        }
    }
}

fn on_gifted(app: &mut App, at: usize, result: Result<GiftReceipt, GiftError>) {
    let form_open = matches!(&app.modal, Some(Modal::Gift(f)) if f.submitting);
    match result {
        Ok(outcome) => {
            if form_open {
                app.modal = None;
            }
            let now = app.now;
            let view = &mut app.pipelines[at];
            let id = outcome.voucher_id;
            // The worker may have finished before this answer arrived.
            let state =
                if let Some((_, at)) = view.recently_persisted.iter().find(|(v, _)| *v == id) {
                    FollowState::Persisted { at: *at }
                } else if let Some(r) = view
                    .feeds
                    .failures
                    .records
                    .iter()
                    .find(|r| r.voucher_id == Some(id))
                {
                    FollowState::failed(r)
                } else {
                    FollowState::Queued {
                        duplicate: outcome.duplicate,
                    }
                };
            view.follow = Some(Follow {
                voucher_id: id,
                since: now,
                state,
            });
            // The status line follows the voucher; only a duplicate needs a word more.
            if outcome.duplicate {
                app.toast(
                    Level::Info,
                    "this idempotency key was used before: following the earlier voucher",
                );
            }
        }
        Err(failure) => {
            let limits = app.pipelines[at].info.limits;
            if let Some(Modal::Gift(form)) = app.modal.as_mut().filter(|_| form_open) {
                form.refused(&failure, &limits);
            } else {
                app.toast(
                    Level::Error,
                    format!("gift failed: {}", sanitize(&failure.to_string())),
                );
            }
        }
    }
}

fn on_peeked(app: &mut App, at: usize, result: Result<Vec<DlqMessage>, String>) {
    let now = app.now;
    let view = &mut app.pipelines[at];
    let peek_limit = view.info.peek_limit;
    let d = &mut view.dlq;
    d.loading = false;
    match result {
        Ok(entries) => {
            d.exhausted = entries.len() < peek_limit;
            d.page = 0;
            d.progress = None;
            d.entries = entries;
            let ids: BTreeSet<&String> = d.entries.iter().map(|e| &e.message_id).collect();
            d.selected.retain(|id| ids.contains(id));
            d.cursor = d.cursor.min(d.entries.len().saturating_sub(1));
            d.loaded_at = Some(now);
            d.error = None;
            d.detail_scroll = 0;
        }
        Err(e) => {
            let e = sanitize(&e);
            let text = format!("peek failed: {e}");
            d.error = Some(e);
            app.toast(Level::Error, text);
        }
    }
}

fn on_deleted(app: &mut App, at: usize, ids: &[String], result: Result<u64, String>) {
    match result {
        Ok(n) => {
            let view = &mut app.pipelines[at];
            let d = &mut view.dlq;
            d.entries.retain(|e| !ids.contains(&e.message_id));
            for id in ids {
                d.selected.remove(id);
            }
            d.cursor = d.cursor.min(d.entries.len().saturating_sub(1));
            let level = if n == ids.len() as u64 {
                Level::Success
            } else {
                Level::Warn
            };
            let text = format!(
                "deleted {n} of {} messages from {}",
                ids.len(),
                view.info.names.dlq
            );
            app.toast(level, text);
        }
        Err(e) => app.toast(Level::Error, format!("delete failed: {}", sanitize(&e))),
    }
}

fn on_redrive(app: &mut App, at: usize, progress: RedriveProgress) -> Vec<Effect> {
    let now = app.now;
    let Some(run) = app.pipelines[at].redrive.as_mut() else {
        return Vec::new();
    };
    let finished = progress.status.is_finished();
    let summary = match &progress.status {
        RedriveStatus::Starting | RedriveStatus::Running => None,
        RedriveStatus::Completed => Some((
            Level::Success,
            format!(
                "redrive done: {} moved, {} failed",
                progress.moved, progress.failed
            ),
        )),
        RedriveStatus::Cancelled => Some((
            Level::Warn,
            format!(
                "redrive cancelled after {} moved (moves made stay made)",
                progress.moved
            ),
        )),
        RedriveStatus::Failed(e) => Some((
            Level::Error,
            format!(
                "redrive failed after {} moved: {}",
                progress.moved,
                sanitize(e)
            ),
        )),
    };
    run.status = Some(progress);
    if finished && run.finished_at.is_none() {
        run.finished_at = Some(now);
        if let Some((level, text)) = summary {
            app.toast(level, text);
        }
        // The browser's list is out of date now.
        let view = &mut app.pipelines[at];
        if view.dlq.loaded_at.is_some() && !view.dlq.loading {
            view.dlq.loading = true;
            return vec![Effect::PeekDlq {
                limit: view.info.peek_limit,
            }];
        }
    }
    Vec::new()
}
