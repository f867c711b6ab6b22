//! This dashboard's worker: state, concurrency, in flight, rates, latency.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::figures::{WorkerRates, worker_rates};
use crate::focus::Pane;
use crate::keymap::{Action, Layer};
use voucherdeck_pipeline::ConsumerSnapshot;

use super::super::fit::{KEEP, Part, fit, title_room};
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
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" Worker ", t.title)),
            Part::one(1, Span::styled(hint, t.muted)),
        ],
        title_room(area.width),
    );
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
    let room = usize::from(inner.width);
    let lines: Vec<Line<'static>> = figures(app, s)
        .into_iter()
        .map(|parts| fit(parts, room))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// State and concurrency, rates, latency, totals; narrow, the figures on the right of each line go
/// first.
fn figures(app: &App, s: &ConsumerSnapshot) -> Vec<Vec<Part>> {
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
    let figure = |rank, label: &str, value: String, style| {
        Part::new(
            rank,
            vec![
                Span::styled(label.to_string(), t.label),
                Span::styled(value, style),
            ],
        )
    };
    // The DLQ pane counts what reached the DLQ; the worker's own failures stay.
    let (persisted, failed, dead) = (
        format!(" {} persisted", s.totals.persisted),
        format!(" · {} failed", s.totals.failed),
        format!(" · {} DLQ", s.totals.dead_lettered),
    );
    vec![
        vec![
            Part::new(KEEP, vec![Span::raw(" "), Span::styled(state, style)]),
            figure(2, "  concurrency ", s.concurrency.to_string(), t.strong),
            figure(1, "  in flight ", s.in_flight.to_string(), t.strong),
        ],
        vec![
            figure(KEEP, " processed/s ", r(|w| w.removed), t.ok),
            figure(1, "  failed/s ", r(|w| w.failed), t.error),
        ],
        vec![
            figure(KEEP, " p50 ", ms(s.p50_ms), Style::new()),
            figure(1, "  p99 ", ms(s.p99_ms), Style::new()),
        ],
        vec![
            Part::one(1, Span::styled(" totals:", t.muted)),
            Part::one(KEEP, Span::styled(persisted, t.muted)),
            Part::one(KEEP, Span::styled(failed, t.muted)),
            Part::one(2, Span::styled(dead, t.muted)),
        ],
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
