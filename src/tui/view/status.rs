//! The status line: the newest toast, and the voucher gifted from here, followed to its end.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::short_duration;

use super::widgets::{dim, level_style};
use crate::tui::app::{App, FollowState};

pub fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    if let Some(t) = &app.toast {
        spans.push(Span::styled(t.text.clone(), level_style(t.level)));
    }
    if let Some(f) = &app.follow {
        if spans.len() > 1 {
            spans.push(Span::styled("  │  ", dim()));
        }
        spans.push(Span::styled(
            format!("voucher {} ", f.voucher_id),
            Style::new().fg(Color::White),
        ));
        match &f.state {
            FollowState::Queued { duplicate } => {
                spans.push(Span::styled(
                    format!("queued {} ago", short_duration(f.since.until(app.now))),
                    Style::new().fg(Color::Cyan),
                ));
                if *duplicate {
                    spans.push(Span::styled(" (earlier gift, same key)", dim()));
                }
                let waiting = match app.consumer.latest() {
                    Some(c) if c.paused => " · worker paused",
                    Some(_) => " · waiting for the worker",
                    None => " · waiting for a worker",
                };
                spans.push(Span::styled(waiting, dim()));
            }
            FollowState::Persisted { at } => spans.push(Span::styled(
                format!("persisted ✓ after {}", short_duration(f.since.until(*at))),
                Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
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
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ));
            }
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
