//! This dashboard's worker: state, concurrency, in flight, rates, latency.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::figures::{WorkerRates, worker_rates};
use crate::focus::Pane;
use crate::keymap::{Action, Layer};
use voucherdeck_pipeline::ConsumerSnapshot;

use super::super::widgets::{fmt_rate, pane_block};

pub fn render_worker(app: &App, frame: &mut Frame, area: Rect) {
    let (t, km) = (&app.view().theme, &app.keymap);
    let hint = if app.view().info.read_only || !app.view().info.worker {
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
        Span::styled(" Worker ", t.title),
        Span::styled(hint, t.muted),
    ]);
    let block = pane_block(app, Pane::Worker, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(s) = app.view().consumer.latest() else {
        let text = if app.view().info.read_only {
            "no worker: read-only mode consumes nothing".to_string()
        } else if !app.view().info.worker {
            "no worker in this dashboard".to_string()
        } else {
            format!("{} starting…", app.spinner())
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(format!(" {text}"), t.muted))),
            inner,
        );
        return;
    };
    frame.render_widget(Paragraph::new(figures(app, s)), inner);
}

/// State and concurrency, rates, latency, totals.
fn figures(app: &App, s: &ConsumerSnapshot) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let (state, style) = if s.stopped {
        ("■ stopped", t.alarm)
    } else if s.paused {
        ("‖ paused", t.warn.bold())
    } else {
        ("▶ running", t.ok.bold())
    };
    let rates = worker_rates(app);
    let r = |f: fn(&WorkerRates) -> f64| {
        rates
            .as_ref()
            .map_or_else(|| "—".to_string(), |w| fmt_rate(f(w)))
    };
    vec![
        Line::from(vec![
            Span::raw(" "),
            Span::styled(state, style),
            Span::styled("  concurrency ", t.label),
            Span::styled(s.concurrency.to_string(), t.strong),
            Span::styled("  in flight ", t.label),
            Span::styled(s.in_flight.to_string(), t.strong),
        ]),
        Line::from(vec![
            Span::styled(" processed/s ", t.label),
            Span::styled(r(|w| w.removed), t.ok),
            Span::styled("  failed/s ", t.label),
            Span::styled(r(|w| w.failed), t.error),
        ]),
        Line::from(vec![
            Span::styled(" p50 ", t.label),
            Span::raw(ms(s.p50_ms)),
            Span::styled("  p99 ", t.label),
            Span::raw(ms(s.p99_ms)),
        ]),
        Line::from(Span::styled(
            format!(
                " totals: {} persisted · {} failed · {} DLQ",
                s.totals.persisted, s.totals.failed, s.totals.dead_lettered
            ),
            t.muted,
        )),
    ]
}

/// A latency; sub-millisecond batches (the embedded engine) keep a decimal instead of reading "0 ms".
fn ms(v: Option<f64>) -> String {
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
}
