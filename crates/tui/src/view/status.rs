//! The status line: the newest toast, and the voucher gifted from here, followed to its end.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Follow, FollowState, Level};
use voucherdeck_core::domain::short_duration;

pub fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let mut spans = vec![Span::raw(" ")];
    if let Some(toast) = &app.toast {
        spans.push(Span::styled(
            toast.text.clone(),
            level_style(app, toast.level),
        ));
    }
    if let Some(f) = &app.view().follow {
        if spans.len() > 1 {
            spans.push(Span::styled("  │  ", t.muted));
        }
        spans.extend(follow_spans(app, f));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn level_style(app: &App, level: Level) -> Style {
    let t = &app.view().theme;
    match level {
        Level::Info => t.info,
        Level::Success => t.ok,
        Level::Warn => t.warn,
        Level::Error => t.alarm,
    }
}

/// Where the voucher gifted from here is: queued (and what it waits for), persisted, or failed.
fn follow_spans(app: &App, f: &Follow) -> Vec<Span<'static>> {
    let t = &app.view().theme;
    let mut spans = vec![Span::styled(format!("voucher {} ", f.voucher_id), t.text)];
    match &f.state {
        FollowState::Queued { duplicate } => {
            spans.push(Span::styled(
                format!("queued {} ago", short_duration(f.since.until(app.now))),
                t.info,
            ));
            if *duplicate {
                spans.push(Span::styled(" (earlier gift, same key)", t.muted));
            }
            let waiting = match app.view().consumer.latest() {
                Some(c) if c.paused => " · worker paused",
                Some(_) => " · waiting for the worker",
                None => " · waiting for a worker",
            };
            spans.push(Span::styled(waiting, t.muted));
        }
        FollowState::Persisted { at } => spans.push(Span::styled(
            format!("persisted ✓ after {}", short_duration(f.since.until(*at))),
            t.ok.bold(),
        )),
        FollowState::Failed {
            reason,
            dead_lettered,
            receive_count,
        } => {
            let what = if *dead_lettered {
                "dead-lettered"
            } else {
                "failed, will retry"
            };
            spans.push(Span::styled(
                format!("{what} (receive {receive_count}): {reason}"),
                t.alarm,
            ));
        }
    }
    spans
}
