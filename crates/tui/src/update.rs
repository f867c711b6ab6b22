//! `update`: the only place `App` changes. Synchronous, no I/O, no clock: time comes as `Msg::Tick`.

use std::collections::BTreeSet;

use voucherdeck_core::domain::{Timestamp, text::sanitize};
use voucherdeck_pipeline::{
    DlqMessage, GiftError, GiftReceipt, MonitorUpdate, RedriveProgress, RedriveStatus,
};

use super::app::{
    App, CONSUMER_MAX_SAMPLES, ERROR_TOAST_FOR, Follow, FollowState, Level, RECENTLY_PERSISTED_MAX,
    TOAST_FOR,
};
use super::browser_update;
use super::feeds::News;
use super::focus::Pane;
use super::keys::on_key;
use super::modal::Modal;
use super::msg::{Effect, Msg};

/// Applies one message; returns the effects to run.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => return on_key(app, &key),
        Msg::Redrive(status) => return on_redrive(app, status),
        Msg::Resize => {}
        Msg::Tick(now) => on_tick(app, now),
        Msg::Monitor(update) => return on_monitor(app, update),
        Msg::Consumer(sample) => {
            app.consumer.samples.push_back(sample);
            while app.consumer.samples.len() > CONSUMER_MAX_SAMPLES {
                app.consumer.samples.pop_front();
            }
        }
        Msg::Persisted { voucher_id, .. } => {
            app.recently_persisted.push_back((voucher_id, app.now));
            while app.recently_persisted.len() > RECENTLY_PERSISTED_MAX {
                app.recently_persisted.pop_front();
            }
            if let Some(f) = app.follow.as_mut().filter(|f| f.voucher_id == voucher_id) {
                f.state = FollowState::Persisted { at: app.now };
            }
        }
        Msg::Failed(record) => {
            if let Some(f) = app
                .follow
                .as_mut()
                .filter(|f| Some(f.voucher_id) == record.voucher_id)
            {
                f.state = FollowState::failed(&record);
            }
            app.feeds.failures.merge(vec![record]);
        }
        Msg::Gifted(result) => on_gifted(app, result),
        Msg::DlqPeeked(result) => on_peeked(app, result),
        Msg::DlqMore { result, exhausted } => browser_update::on_more(app, result, exhausted),
        Msg::DlqProgress(n) => app.dlq.progress = Some(n),
        Msg::Edited { message_id, result } => {
            return browser_update::on_edited(app, message_id, result);
        }
        Msg::Resent { message_id, result } => browser_update::on_resent(app, &message_id, result),
        Msg::DlqCounted(result) => browser_update::on_counted(app, result),
        Msg::DlqDeleted { ids, result } => on_deleted(app, &ids, result),
        Msg::Exported(result) => match result {
            Ok((path, n)) => app.toast(
                Level::Success,
                format!("exported {n} messages to {}", path.display()),
            ),
            Err(e) => app.toast(Level::Error, format!("export failed: {}", sanitize(&e))),
        },
        Msg::Purged(result) => on_purged(app, result),
        Msg::For { index, msg } => return on_pipeline(app, index, *msg),
    }
    Vec::new()
}

/// A message about one pipeline: applied to its view (put on screen for the while, when it is
/// not); what it asks for is done on that pipeline.
fn on_pipeline(app: &mut App, index: usize, msg: Msg) -> Vec<Effect> {
    if index == app.active {
        return update(app, msg);
    }
    app.with_view(index, |app| update(app, msg))
        .unwrap_or_default()
        .into_iter()
        .map(|effect| Effect::On {
            index,
            effect: Box::new(effect),
        })
        .collect()
}

/// A poll landed: alarms that fired or cleared are said in the status line; they and DLQ
/// arrivals ring the bell when asked (`--bell`).
fn on_monitor(app: &mut App, update: MonitorUpdate) -> Vec<Effect> {
    let mut ring = false;
    for news in app.feeds.apply(update) {
        ring = true;
        match news {
            News::AlarmFired(name) => app.toast(Level::Error, format!("ALARM: {name}")),
            News::AlarmCleared(name) => {
                app.toast(Level::Success, format!("{name} is OK again"));
            }
            News::DlqArrivals(_) => {}
        }
    }
    // The Intake pane goes when no server published in the last hour; the focus goes on.
    if app.focus == Pane::Intake && !app.intake_shown() {
        app.focus = Pane::Intake.next_shown(false);
    }
    if ring && app.info.bell {
        vec![Effect::Bell]
    } else {
        Vec::new()
    }
}

fn on_purged(app: &mut App, result: Result<(), String>) {
    match result {
        Ok(()) => {
            app.dlq.entries.clear();
            app.dlq.selected.clear();
            app.dlq.cursor = 0;
            app.toast(Level::Success, format!("purged {}", app.info.names.dlq));
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

fn on_gifted(app: &mut App, result: Result<GiftReceipt, GiftError>) {
    let form_open = matches!(&app.modal, Some(Modal::Gift(f)) if f.submitting);
    match result {
        Ok(outcome) => {
            if form_open {
                app.modal = None;
            }
            let id = outcome.voucher_id;
            // The worker may have finished before this answer arrived.
            let state = if let Some((_, at)) = app.recently_persisted.iter().find(|(v, _)| *v == id)
            {
                FollowState::Persisted { at: *at }
            } else if let Some(r) = app
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
            app.follow = Some(Follow {
                voucher_id: id,
                since: app.now,
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
            let limits = app.info.limits;
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

fn on_peeked(app: &mut App, result: Result<Vec<DlqMessage>, String>) {
    app.dlq.loading = false;
    match result {
        Ok(entries) => {
            app.dlq.exhausted = entries.len() < app.info.peek_limit;
            app.dlq.page = 0;
            app.dlq.progress = None;
            app.dlq.entries = entries;
            let ids: BTreeSet<&String> = app.dlq.entries.iter().map(|e| &e.message_id).collect();
            app.dlq.selected.retain(|id| ids.contains(id));
            app.dlq.cursor = app.dlq.cursor.min(app.dlq.entries.len().saturating_sub(1));
            app.dlq.loaded_at = Some(app.now);
            app.dlq.error = None;
            app.dlq.detail_scroll = 0;
        }
        Err(e) => {
            let e = sanitize(&e);
            app.toast(Level::Error, format!("peek failed: {e}"));
            app.dlq.error = Some(e);
        }
    }
}

fn on_deleted(app: &mut App, ids: &[String], result: Result<u64, String>) {
    match result {
        Ok(n) => {
            app.dlq.entries.retain(|e| !ids.contains(&e.message_id));
            for id in ids {
                app.dlq.selected.remove(id);
            }
            app.dlq.cursor = app.dlq.cursor.min(app.dlq.entries.len().saturating_sub(1));
            let level = if n == ids.len() as u64 {
                Level::Success
            } else {
                Level::Warn
            };
            app.toast(
                level,
                format!(
                    "deleted {n} of {} messages from {}",
                    ids.len(),
                    app.info.names.dlq
                ),
            );
        }
        Err(e) => app.toast(Level::Error, format!("delete failed: {}", sanitize(&e))),
    }
}

fn on_redrive(app: &mut App, progress: RedriveProgress) -> Vec<Effect> {
    let now = app.now;
    let Some(run) = app.redrive.as_mut() else {
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
        if app.dlq.loaded_at.is_some() && !app.dlq.loading {
            app.dlq.loading = true;
            return vec![Effect::PeekDlq {
                limit: app.info.peek_limit,
            }];
        }
    }
    Vec::new()
}
