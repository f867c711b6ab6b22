//! What the screen-level actions do: the overview, the dashboard, and those shared by every screen
//! (the DLQ browser's own are in `browser_actions`).

use std::time::Duration;

use voucherdeck_core::domain::limits::clamp_concurrency;

use super::app::{App, Level, Screen};
use super::browser_actions::{browser_action, leave_browser};
use super::cursor::move_cursor;
use super::figures::dlq_figures;
use super::focus::Pane;
use super::keymap::Action;
use super::modal::{Confirm, GiftForm, Modal, RedriveForm};
use super::msg::Effect;
use super::overview;

/// Re-peek the DLQ when the browser opens if the last peek is older than this.
const PEEK_FRESH: Duration = Duration::from_secs(30);

pub(super) fn screen_action(app: &mut App, action: Action) -> Vec<Effect> {
    if action.is_mutating() && app.view().info.read_only {
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
        Action::Overview => return show_overview(app),
        Action::AuditLog => {
            app.modal = Some(Modal::Audit { scroll: 0 });
            return vec![Effect::RefreshAudit];
        }
        Action::NextScreen if app.screen == Screen::DlqBrowser => return leave_browser(app),
        Action::NextScreen if app.screen == Screen::Overview => {}
        Action::NextScreen | Action::DlqBrowser => return open_browser(app),
        Action::Gift => app.modal = Some(Modal::Gift(GiftForm::new(&app.view().info.limits))),
        Action::Redrive => open_redrive_form(app),
        Action::CancelRedrive => return cancel_redrive(app),
        Action::PurgeDlq => {
            let count = dlq_figures(app).map(|f| f.count);
            app.modal = Some(Modal::Confirm(Confirm::purge(
                &app.view().info.names.dlq,
                count,
            )));
        }
        Action::WorkerToggle | Action::ConcurrencyUp | Action::ConcurrencyDown => {
            return worker_action(app, action);
        }
        Action::WindowCycle => app.window = app.window.next(),
        Action::FocusNext | Action::FocusPrev => {
            let view = app.view_mut();
            let intake = view.intake_shown();
            view.focus = if action == Action::FocusNext {
                view.focus.next_shown(intake)
            } else {
                view.focus.prev_shown(intake)
            };
        }
        _ => {
            return match app.screen {
                Screen::Overview => overview_action(app, action),
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
        app.view().dlq.selected_ids()
    } else {
        Vec::new()
    };
    app.modal = Some(Modal::Redrive(RedriveForm::new(
        app.view().info.names.dlq.clone(),
        selected,
    )));
}

fn cancel_redrive(app: &mut App) -> Vec<Effect> {
    match app.view_mut().redrive.as_mut() {
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
    let now = app.now;
    let view = app.view_mut();
    if view.info.read_only {
        let n = view.feeds.failures.dead_lettered().len();
        view.dlq.cursor = view.dlq.cursor.min(n.saturating_sub(1));
        return Vec::new();
    }
    let fresh = view
        .dlq
        .loaded_at
        .is_some_and(|t| t.until(now) <= PEEK_FRESH);
    if fresh || view.dlq.loading {
        return Vec::new();
    }
    view.dlq.loading = true;
    vec![Effect::PeekDlq {
        limit: view.info.peek_limit,
    }]
}

fn worker_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(latest) = app
        .view_mut()
        .consumer
        .samples
        .back_mut()
        .map(|s| &mut s.snapshot)
    else {
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

/// Every pipeline on one screen (leaving the DLQ browser lets go of what it held).
fn show_overview(app: &mut App) -> Vec<Effect> {
    let effects = if app.screen == Screen::DlqBrowser {
        leave_browser(app)
    } else {
        Vec::new()
    };
    app.screen = Screen::Overview;
    effects
}

/// The overview: move between pipelines, Enter opens one.
fn overview_action(app: &mut App, action: Action) -> Vec<Effect> {
    let rows: Vec<usize> = overview::rows(app).iter().map(|r| r.index).collect();
    match action {
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            move_cursor(&mut app.overview_cursor, rows.len(), action);
        }
        Action::Details => {
            if let Some(&index) = rows.get(app.overview_cursor) {
                app.open_pipeline(index);
                return vec![Effect::OnScreen(index)];
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A pane-level key on the dashboard: for the focused pane only. Esc with nothing to undo returns
/// to the overview when there are several pipelines.
fn dashboard_action(app: &mut App, action: Action) -> Vec<Effect> {
    let f = &app.view().feeds.failures;
    let nothing_to_undo = f.filter.is_empty() && !f.grouped;
    if action == Action::Back && nothing_to_undo && app.pipeline_count() > 1 {
        app.screen = Screen::Overview;
        return Vec::new();
    }
    if !app.view().focus.answers(action) {
        return Vec::new();
    }
    match app.view().focus {
        Pane::Failures => failures_action(app, action),
        Pane::Dlq => open_browser(app),
        Pane::Alarms => {
            app.modal = Some(Modal::Alarms { scroll: 0 });
            Vec::new()
        }
        // Panes without keys of their own.
        _ => Vec::new(),
    }
}

/// The failures table: move, details, filter, grouping.
fn failures_action(app: &mut App, action: Action) -> Vec<Effect> {
    let f = &mut app.view_mut().feeds.failures;
    match action {
        Action::Filter => f.editing = true,
        Action::GroupToggle => {
            f.grouped = !f.grouped;
            f.cursor = 0;
        }
        Action::Details => {
            if let Some(r) = f.at_cursor() {
                app.modal = Some(Modal::FailureDetail(Box::new(r)));
            }
        }
        Action::Back => {
            if !f.filter.is_empty() {
                f.filter.clear();
                f.cursor = 0;
            } else if f.grouped {
                f.grouped = false;
                f.cursor = 0;
            }
        }
        Action::Up | Action::Down | Action::Top | Action::Bottom => {
            let n = f.row_count();
            move_cursor(&mut f.cursor, n, action);
        }
        _ => {}
    }
    Vec::new()
}
