//! What the screen-level actions do: dashboard, DLQ browser, and those shared by both.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::domain::limits::clamp_concurrency;
use crate::pipeline::DlqMessage;

use super::app::{App, Level, Screen};
use super::figures::dlq_figures;
use super::focus::Pane;
use super::keymap::Action;
use super::modal::{Confirm, GiftForm, Modal, RedriveForm};
use super::msg::Effect;

/// Re-peek the DLQ when the browser opens if the last peek is older than this.
const PEEK_FRESH: Duration = Duration::from_secs(30);

pub(super) fn screen_action(app: &mut App, action: Action) -> Vec<Effect> {
    if action.is_mutating() && app.info.read_only {
        let why = if action == Action::Refresh {
            "read-only: the DLQ is not peeked (a peek is a receive: it raises receive counts)"
                .into()
        } else {
            format!("read-only: {} is disabled", action.label())
        };
        app.toast(Level::Warn, why);
        return Vec::new();
    }
    match action {
        Action::Quit => app.should_quit = true,
        Action::Help => app.modal = Some(Modal::Help { scroll: 0 }),
        Action::AuditLog => {
            app.modal = Some(Modal::Audit { scroll: 0 });
            return vec![Effect::RefreshAudit];
        }
        Action::NextScreen if app.screen == Screen::DlqBrowser => app.screen = Screen::Dashboard,
        Action::NextScreen | Action::DlqBrowser => return open_browser(app),
        Action::Gift => app.modal = Some(Modal::Gift(GiftForm::new(&app.info.limits))),
        Action::Redrive => open_redrive_form(app),
        Action::CancelRedrive => return cancel_redrive(app),
        Action::PurgeDlq => {
            let count = dlq_figures(app).map(|f| f.count);
            app.modal = Some(Modal::Confirm(Confirm::purge(&app.info.names.dlq, count)));
        }
        Action::WorkerToggle | Action::ConcurrencyUp | Action::ConcurrencyDown => {
            return worker_action(app, action);
        }
        Action::WindowCycle => app.window = app.window.next(),
        Action::FocusNext => app.focus = app.focus.next_shown(app.info.intake.is_some()),
        Action::FocusPrev => app.focus = app.focus.prev_shown(app.info.intake.is_some()),
        _ => {
            return match app.screen {
                Screen::Dashboard => dashboard_action(app, action),
                Screen::DlqBrowser => browser_action(app, action),
            };
        }
    }
    Vec::new()
}

/// The redrive form, with what is selected in the DLQ browser when it opens from there.
fn open_redrive_form(app: &mut App) {
    if app.redrive_running() {
        app.toast(
            Level::Warn,
            "a redrive is already running: wait for it or cancel it",
        );
        return;
    }
    let selected = if app.screen == Screen::DlqBrowser {
        app.dlq.selected_ids()
    } else {
        Vec::new()
    };
    app.modal = Some(Modal::Redrive(RedriveForm::new(
        app.info.names.dlq.clone(),
        selected,
    )));
}

fn cancel_redrive(app: &mut App) -> Vec<Effect> {
    match app.redrive.as_mut() {
        Some(run) if run.is_running() && !run.cancel_requested => {
            run.cancel_requested = true;
            app.toast(Level::Info, "cancelling the redrive…");
            return vec![Effect::CancelRedrive];
        }
        Some(run) if run.is_running() => {
            app.toast(Level::Info, "the redrive is being cancelled");
        }
        _ => app.toast(Level::Info, "no redrive is running"),
    }
    Vec::new()
}

fn open_browser(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::DlqBrowser;
    // Read-only, the browser lists the failure log's dead-lettered records: nothing to peek.
    if app.info.read_only {
        let n = app.feeds.failures.dead_lettered().len();
        app.dlq.cursor = app.dlq.cursor.min(n.saturating_sub(1));
        return Vec::new();
    }
    let fresh = app
        .dlq
        .loaded_at
        .is_some_and(|t| t.until(app.now) <= PEEK_FRESH);
    if fresh || app.dlq.loading {
        return Vec::new();
    }
    app.dlq.loading = true;
    vec![Effect::PeekDlq {
        limit: app.info.peek_limit,
    }]
}

fn worker_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(latest) = app.consumer.samples.back_mut().map(|s| &mut s.snapshot) else {
        app.toast(Level::Warn, "this dashboard runs no worker");
        return Vec::new();
    };
    match action {
        Action::WorkerToggle => {
            let paused = !latest.paused;
            latest.paused = paused;
            app.toast(
                Level::Info,
                if paused {
                    "worker paused"
                } else {
                    "worker resumed"
                },
            );
            vec![Effect::SetWorkerPaused(paused)]
        }
        Action::ConcurrencyUp | Action::ConcurrencyDown => {
            let n = clamp_concurrency(if action == Action::ConcurrencyUp {
                latest.concurrency + 1
            } else {
                latest.concurrency.saturating_sub(1)
            });
            if n == latest.concurrency {
                return Vec::new();
            }
            latest.concurrency = n;
            vec![Effect::SetConcurrency(n)]
        }
        _ => Vec::new(),
    }
}

fn move_cursor(cursor: &mut usize, len: usize, action: Action) -> bool {
    let last = len.saturating_sub(1);
    let next = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    let changed = next != *cursor;
    *cursor = next;
    changed
}

/// A pane-level key on the dashboard: for the focused pane only.
fn dashboard_action(app: &mut App, action: Action) -> Vec<Effect> {
    if !app.focus.answers(action) {
        return Vec::new();
    }
    match app.focus {
        Pane::Failures => failures_action(app, action),
        Pane::Dlq => open_browser(app),
        // Panes without keys of their own.
        _ => Vec::new(),
    }
}

/// The failures table: move, details, filter, grouping.
fn failures_action(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Filter => app.feeds.failures.editing = true,
        Action::GroupToggle => {
            app.feeds.failures.grouped = !app.feeds.failures.grouped;
            app.feeds.failures.cursor = 0;
        }
        Action::Details => {
            if let Some(r) = app.feeds.failures.at_cursor() {
                app.modal = Some(Modal::FailureDetail(Box::new(r)));
            }
        }
        Action::Back => {
            if !app.feeds.failures.filter.is_empty() {
                app.feeds.failures.filter.clear();
                app.feeds.failures.cursor = 0;
            } else if app.feeds.failures.grouped {
                app.feeds.failures.grouped = false;
                app.feeds.failures.cursor = 0;
            }
        }
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            let n = app.feeds.failures.row_count();
            move_cursor(&mut app.feeds.failures.cursor, n, action);
        }
        _ => {}
    }
    Vec::new()
}

fn browser_action(app: &mut App, action: Action) -> Vec<Effect> {
    if app.info.read_only {
        return read_only_browser_action(app, action);
    }
    let d = &mut app.dlq;
    match action {
        Action::Back if d.zoom => d.zoom = false,
        Action::Back => app.screen = Screen::Dashboard,
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            let moved = move_cursor(&mut d.cursor, d.entries.len(), action);
            if moved {
                d.detail_scroll = 0;
            }
        }
        Action::ScrollDown => d.detail_scroll = d.detail_scroll.saturating_add(5),
        Action::ScrollUp => d.detail_scroll = d.detail_scroll.saturating_sub(5),
        Action::Details => d.zoom = !d.zoom,
        Action::Select => {
            if let Some(id) = d.current().map(|e| e.message_id.clone()) {
                if !d.selected.remove(&id) {
                    d.selected.insert(id);
                }
                move_cursor(&mut d.cursor, d.entries.len(), Action::Down);
            }
        }
        Action::SelectAll => {
            if d.selected.len() == d.entries.len() {
                d.selected.clear();
            } else {
                d.selected = d.entries.iter().map(|e| e.message_id.clone()).collect();
            }
        }
        Action::Refresh if !d.loading => {
            d.loading = true;
            return vec![Effect::PeekDlq {
                limit: app.info.peek_limit,
            }];
        }
        Action::Delete => confirm_delete(app),
        Action::Export => return export(app),
        _ => {}
    }
    Vec::new()
}

/// The read-only browser: moves through the failure log's dead-lettered records; Enter shows one.
fn read_only_browser_action(app: &mut App, action: Action) -> Vec<Effect> {
    let records = app.feeds.failures.dead_lettered();
    let n = records.len();
    let current = records.get(app.dlq.cursor).map(|r| (*r).clone());
    match action {
        Action::Back => app.screen = Screen::Dashboard,
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            move_cursor(&mut app.dlq.cursor, n, action);
        }
        Action::Details => {
            if let Some(r) = current {
                app.modal = Some(Modal::FailureDetail(Box::new(r)));
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Asks to delete the selected messages, or the one under the cursor.
fn confirm_delete(app: &mut App) {
    let mut ids = app.dlq.selected_ids();
    if ids.is_empty() {
        ids.extend(app.dlq.current().map(|e| e.message_id.clone()));
    }
    if ids.is_empty() {
        app.toast(Level::Info, "nothing to delete");
        return;
    }
    app.modal = Some(Modal::Confirm(Confirm::delete(&app.info.names.dlq, ids)));
}

/// Exports the selected messages, or every one listed.
fn export(app: &mut App) -> Vec<Effect> {
    let d = &app.dlq;
    let entries: Vec<DlqMessage> = if d.selected_ids().is_empty() {
        d.entries.clone()
    } else {
        d.entries
            .iter()
            .filter(|e| d.selected.contains(&e.message_id))
            .cloned()
            .collect()
    };
    if entries.is_empty() {
        app.toast(Level::Info, "nothing to export: the list is empty");
        return Vec::new();
    }
    let file_name = export_file_name(app.now);
    app.toast(
        Level::Info,
        format!("exporting {} messages…", entries.len()),
    );
    vec![Effect::ExportDlq { file_name, entries }]
}

/// `voucherdeck-dlq-20251125T120307Z.jsonl`.
pub fn export_file_name(now: Timestamp) -> String {
    let stamp: String = now
        .to_string()
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("voucherdeck-dlq-{stamp}Z.jsonl")
}
