//! The running redrive: a progress bar with moved/total, rate, ETA and the cancel key.

use std::fmt::Write as _;
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use crate::domain::short_duration;
use crate::pipeline::{RedriveMethod, RedriveStatus};

use super::widgets::{dim, fmt_rate, key_style, pane, title_style};
use crate::tui::app::App;
use crate::tui::figures::redrive_figures;
use crate::tui::keymap::Action;

/// A finished redrive stays on screen this long.
const LINGER: Duration = Duration::from_secs(20);

pub fn visible(app: &App) -> bool {
    app.redrive
        .as_ref()
        .is_some_and(|r| r.finished_at.is_none_or(|t| t.until(app.now) <= LINGER))
}

pub fn render_redrive_strip(app: &App, frame: &mut Frame, area: Rect) {
    let (Some(run), Some(fig)) = (app.redrive.as_ref(), redrive_figures(app)) else {
        return;
    };
    let method = match run.status.as_ref().map(|s| s.method) {
        Some(RedriveMethod::Native) => " (SQS move task)",
        Some(RedriveMethod::Copy) => " (copy: receive, send, delete)",
        None => "",
    };
    let mut title = vec![
        Span::styled(" Redrive ", title_style()),
        Span::styled(
            format!("{} → {}{method} ", app.info.names.dlq, run.description),
            dim(),
        ),
    ];
    if run.is_running() && !app.info.read_only {
        if run.cancel_requested {
            title.push(Span::styled(
                " cancelling… ",
                Style::new().fg(Color::Yellow),
            ));
        } else {
            title.push(Span::styled(
                format!(
                    " {} ",
                    app.keymap.hint(app.screen.layer(), Action::CancelRedrive)
                ),
                key_style(),
            ));
            title.push(Span::raw(" cancel "));
        }
    }
    let block = pane(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let total = fig.total.map_or_else(|| "?".to_string(), |t| t.to_string());
    let mut label = format!("moved {}/{total}", fig.moved);
    if fig.failed > 0 {
        let _ = write!(label, " · {} failed", fig.failed);
    }
    if let Some(r) = fig.per_second {
        let _ = write!(label, " · {} msg/s", fmt_rate(r));
    }
    let (color, state) = match &fig.status {
        // Starting (no report yet, or the service still setting up) looks like running and says so.
        RedriveStatus::Starting | RedriveStatus::Running => {
            if let Some(eta) = fig.eta {
                let _ = write!(label, " · ETA {}", short_duration(eta));
            }
            let state = if fig.status == RedriveStatus::Starting {
                " · starting…"
            } else {
                ""
            };
            (Color::Cyan, state.to_string())
        }
        RedriveStatus::Completed => (Color::Green, " · done".to_string()),
        RedriveStatus::Cancelled => (Color::Yellow, " · cancelled".to_string()),
        RedriveStatus::Failed(e) => (
            Color::Red,
            format!(" · failed: {}", crate::domain::text::sanitize(e)),
        ),
    };
    label.push_str(&state);
    if let Some(ratio) = fig.ratio {
        let gauge = Gauge::default()
            .gauge_style(
                Style::new()
                    .fg(color)
                    .bg(Color::Black)
                    .add_modifier(Modifier::BOLD),
            )
            .ratio(ratio)
            .label(label);
        frame.render_widget(gauge, inner);
    } else {
        let spin = if run.is_running() { app.spinner() } else { "" };
        let text = format!(" {spin} {label} (total not known yet)");
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(text, Style::new().fg(color)))),
            inner,
        );
    }
}
