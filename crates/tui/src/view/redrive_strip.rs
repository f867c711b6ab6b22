//! The running redrive: a progress bar with moved/total, rate, ETA and the cancel key.

use std::fmt::Write as _;
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use crate::app::{App, RedriveRun};
use crate::figures::{RedriveFigures, redrive_figures};
use crate::keymap::Action;
use voucherdeck_core::domain::short_duration;
use voucherdeck_core::domain::text::sanitize;
use voucherdeck_pipeline::{RedriveMethod, RedriveStatus};

use super::widgets::{fmt_rate, pane};

/// A finished redrive stays on screen this long.
const LINGER: Duration = Duration::from_secs(20);

pub fn visible(app: &App) -> bool {
    app.view()
        .redrive
        .as_ref()
        .is_some_and(|r| r.finished_at.is_none_or(|t| t.until(app.now) <= LINGER))
}

pub fn render_redrive_strip(app: &App, frame: &mut Frame, area: Rect) {
    let (Some(run), Some(fig)) = (app.view().redrive.as_ref(), redrive_figures(app)) else {
        return;
    };
    let t = &app.view().theme;
    let block = pane(t, title(app, run));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (label, style) = progress(app, &fig);
    if let Some(ratio) = fig.ratio {
        let gauge = Gauge::default()
            .gauge_style(style.patch(t.gauge_track).bold())
            .ratio(ratio)
            .label(label);
        frame.render_widget(gauge, inner);
    } else {
        let spin = if run.is_running() { app.spinner() } else { "" };
        let text = format!(" {spin} {label} (total not known yet)");
        frame.render_widget(Paragraph::new(Line::from(Span::styled(text, style))), inner);
    }
}

/// "Redrive dlq → destination (method)", and the cancel key while it runs.
fn title(app: &App, run: &RedriveRun) -> Line<'static> {
    let t = &app.view().theme;
    let method = match run.status.as_ref().map(|s| s.method) {
        Some(RedriveMethod::Native) => " (SQS move task)",
        Some(RedriveMethod::Copy) => " (copy: receive, send, delete)",
        None => "",
    };
    let mut title = vec![
        Span::styled(" Redrive ", t.title),
        Span::styled(
            format!(
                "{} → {}{method} ",
                app.view().info.names.dlq,
                run.description
            ),
            t.muted,
        ),
    ];
    if run.is_running() && !app.view().info.read_only {
        if run.cancel_requested {
            title.push(Span::styled(" cancelling… ", t.warn));
        } else {
            title.push(Span::styled(
                format!(
                    " {} ",
                    app.keymap.hint(app.screen.layer(), Action::CancelRedrive)
                ),
                t.key_hint,
            ));
            title.push(Span::raw(" cancel "));
        }
    }
    Line::from(title)
}

/// The progress in words, and the style of its state.
fn progress(app: &App, fig: &RedriveFigures) -> (String, Style) {
    let t = &app.view().theme;
    let total = fig.total.map_or_else(|| "?".to_string(), |n| n.to_string());
    let mut label = format!("moved {}/{total}", fig.moved);
    if fig.failed > 0 {
        let _ = write!(label, " · {} failed", fig.failed);
    }
    if let Some(r) = fig.per_second {
        let _ = write!(label, " · {} msg/s", fmt_rate(r));
    }
    let (style, state) = match &fig.status {
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
            (t.info, state.to_string())
        }
        RedriveStatus::Completed => (t.ok, " · done".to_string()),
        RedriveStatus::Cancelled => (t.warn, " · cancelled".to_string()),
        RedriveStatus::Failed(e) => (t.error, format!(" · failed: {}", sanitize(e))),
    };
    label.push_str(&state);
    (label, style)
}
