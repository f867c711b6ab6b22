//! This dashboard's worker: state, concurrency, in flight, rates, latency.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{dim, fmt_rate, label, pane, title_style};
use crate::tui::app::App;
use crate::tui::figures::worker_rates;
use crate::tui::keymap::{Action, Layer};

pub fn render_consumer(app: &App, frame: &mut Frame, area: Rect) {
    let km = &app.keymap;
    let hint = if app.info.read_only || !app.info.worker {
        String::new()
    } else {
        format!(
            "({} toggle, {}/{} concurrency) ",
            km.hint(Layer::Dashboard, Action::WorkerToggle),
            km.hint(Layer::Dashboard, Action::ConcurrencyUp),
            km.hint(Layer::Dashboard, Action::ConcurrencyDown)
        )
    };
    let title = Line::from(vec![
        Span::styled(" Worker ", title_style()),
        Span::styled(hint, dim()),
    ]);
    let block = pane(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(s) = app.consumer.latest() else {
        let text = if app.info.read_only {
            "no worker: read-only mode consumes nothing".to_string()
        } else if !app.info.worker {
            "no worker in this dashboard".to_string()
        } else {
            format!("{} starting…", app.spinner())
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(format!(" {text}"), dim()))),
            inner,
        );
        return;
    };
    let (state, style) = if s.stopped {
        (
            "■ stopped",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    } else if s.paused {
        (
            "‖ paused",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )
    } else {
        (
            "▶ running",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )
    };
    let rates = worker_rates(app);
    let r = |f: fn(&crate::tui::figures::WorkerRates) -> f64| {
        rates
            .as_ref()
            .map_or_else(|| "—".to_string(), |w| fmt_rate(f(w)))
    };
    // Sub-millisecond batches (the embedded engine) keep a decimal instead of reading "0 ms".
    let ms = |v: Option<f64>| {
        v.map_or_else(
            || "—".to_string(),
            |v| {
                if v < 10.0 {
                    format!("{v:.2} ms")
                } else {
                    format!("{v:.0} ms")
                }
            },
        )
    };
    let lines = vec![
        Line::from(vec![
            Span::raw(" "),
            Span::styled(state, style),
            Span::styled("  concurrency ", label()),
            Span::styled(
                s.concurrency.to_string(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled("  in flight ", label()),
            Span::styled(
                s.in_flight.to_string(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(vec![
            Span::styled(" processed/s ", label()),
            Span::styled(r(|w| w.removed), Style::new().fg(Color::Green)),
            Span::styled("  failed/s ", label()),
            Span::styled(r(|w| w.failed), Style::new().fg(Color::Red)),
        ]),
        Line::from(vec![
            Span::styled(" p50 ", label()),
            Span::raw(ms(s.p50_ms)),
            Span::styled("  p99 ", label()),
            Span::raw(ms(s.p99_ms)),
        ]),
        Line::from(Span::styled(
            format!(
                " totals: {} persisted · {} failed · {} dead-lettered",
                s.totals.persisted, s.totals.failed, s.totals.dead_lettered
            ),
            dim(),
        )),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}
