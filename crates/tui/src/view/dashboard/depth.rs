//! Queue depth: visible, in flight, delayed, outstanding, now and over a window, with rates.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use crate::app::App;
use crate::figures::{Connection, connection, rates};
use crate::focus::Pane;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::short_duration;
use voucherdeck_pipeline::DepthSample;

use super::super::widgets::{fmt_rate, pane_block};

/// Width of the figures column.
const FIGURES_W: u16 = 25;

pub fn render_depth(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let key = app.keymap.hint(Layer::Dashboard, Action::WindowCycle);
    let title = Line::from(vec![
        Span::styled(" Queue depth ", t.title),
        Span::styled(
            format!(
                "{} · last {} ({key} cycles) ",
                app.view().info.names.queue,
                app.window.label()
            ),
            t.muted,
        ),
    ]);
    let block = pane_block(app, Pane::Depth, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let Some(latest) = app.view().feeds.depth.latest() else {
        let text = match &app.view().feeds.depth.last_error {
            Some((e, at)) => vec![
                Line::from(Span::styled("no data: the depth poll fails", t.error)),
                Line::from(Span::styled(format!("{} at {}", e, at.hms()), t.muted)),
            ],
            None => vec![Line::from(format!(
                "{} waiting for the first poll…",
                app.spinner()
            ))],
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    // A chart narrower than this says nothing: the figures take the pane.
    let figures_w = if inner.width < FIGURES_W + 30 {
        inner.width
    } else {
        FIGURES_W
    };
    let [chart_area, fig_area] = Layout::horizontal([Fill(1), Length(figures_w)]).areas(inner);
    frame.render_widget(Paragraph::new(figures(app, latest)), fig_area);
    render_chart(app, frame, chart_area);
}

/// The newest figures, the rates, and a note on where they come from (or that they are stale).
fn figures(app: &App, latest: &DepthSample) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let stale = matches!(connection(app), Connection::Stale { .. });
    let q = latest.queue;
    let r = rates(app);
    let value_style = if stale { t.muted } else { t.strong };
    let row = |name: &str, v: String, style: Style| {
        Line::from(vec![
            Span::styled(format!(" {name:<12}"), style),
            Span::styled(format!("{v:>9}"), value_style),
        ])
    };
    let rate = |v: Option<f64>, approx: bool| match v {
        Some(v) => format!("{}{}", if approx { "≈" } else { "" }, fmt_rate(v)),
        None => "—".to_string(),
    };
    let mut lines = vec![
        row("visible", q.visible.to_string(), t.series_visible),
        row("in flight", q.in_flight.to_string(), t.series_in_flight),
        row("delayed", q.delayed.to_string(), t.series_delayed),
        row(
            "outstanding",
            (q.visible + q.in_flight).to_string(),
            t.series_total,
        ),
        row("sent/s", rate(r.sent, true), t.label),
        row("processed/s", rate(r.processed, false), t.label),
    ];
    lines.push(if stale {
        Line::from(Span::styled(
            format!(" stale: as of {}", q.as_of.hms()),
            t.alarm,
        ))
    } else if r.processed.is_none() {
        Line::from(Span::styled(" processed: no local worker", t.muted))
    } else {
        Line::from(Span::styled(" sent ≈ Δdepth+processed", t.muted))
    });
    lines
}

fn render_chart(app: &App, frame: &mut Frame, area: Rect) {
    if area.width < 12 || area.height < 4 {
        return;
    }
    let t = &app.view().theme;
    let window = app.window.duration();
    let mut visible = Vec::new();
    let mut in_flight = Vec::new();
    let mut outstanding = Vec::new();
    let mut y_max = 1.0f64;
    for p in app.view().feeds.depth.history.window(app.now, window) {
        let x = -(p.at.until(app.now).as_secs_f64());
        let q = p.queue;
        let o = (q.visible + q.in_flight) as f64;
        visible.push((x, q.visible as f64));
        in_flight.push((x, q.in_flight as f64));
        outstanding.push((x, o));
        y_max = y_max.max(o).max(q.visible as f64);
    }
    let y_top = (y_max * 1.2).ceil();
    let w = window.as_secs_f64();
    // Two braille dots a cell: more points than dot columns only cost drawing time.
    let dots = usize::from(area.width) * 2;
    let (outstanding, visible, in_flight) = (
        envelope(&outstanding, -w, dots),
        envelope(&visible, -w, dots),
        envelope(&in_flight, -w, dots),
    );
    let series = [
        ("outstanding", t.series_total, &outstanding),
        ("visible", t.series_visible, &visible),
        ("in flight", t.series_in_flight, &in_flight),
    ];
    let datasets: Vec<Dataset> = series
        .into_iter()
        .map(|(name, style, data)| {
            Dataset::default()
                .name(name)
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(style)
                .data(data)
        })
        .collect();
    let x_labels = vec![
        Span::styled(format!("-{}", short_duration(window)), t.label),
        Span::styled(format!("-{}", short_duration(window / 2)), t.label),
        Span::styled("now", t.label),
    ];
    let y_labels = vec![
        Span::styled("0", t.label),
        Span::styled(format!("{}", (y_top / 2.0).round()), t.label),
        Span::styled(format!("{y_top}"), t.label),
    ];
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([-w, 0.0])
                .labels(x_labels)
                .style(t.muted),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_top])
                .labels(y_labels)
                .style(t.muted),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// A line's points over `x_min..=0` thinned to what `columns` dot columns can show: in each column,
/// the lowest and the highest point, in time order. A line with no more points than columns is
/// kept as it is.
fn envelope(points: &[(f64, f64)], x_min: f64, columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns * 2 || columns == 0 || x_min >= 0.0 {
        return points.to_vec();
    }
    let column_of = |x: f64| ((x - x_min) / -x_min * columns as f64) as usize;
    let mut out = Vec::with_capacity(columns * 2);
    let mut i = 0;
    while i < points.len() {
        let column = column_of(points[i].0);
        let mut j = i;
        let (mut low, mut high) = (i, i);
        while j < points.len() && column_of(points[j].0) == column {
            if points[j].1 < points[low].1 {
                low = j;
            }
            if points[j].1 > points[high].1 {
                high = j;
            }
            j += 1;
        }
        out.push(points[low.min(high)]);
        if low != high {
            out.push(points[low.max(high)]);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::envelope;

    #[test]
    fn a_short_line_is_kept() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i) - 10.0, 1.0)).collect();
        assert_eq!(envelope(&line, -10.0, 8), line);
    }

    #[test]
    fn a_long_line_keeps_each_columns_low_and_high_in_time_order() {
        // An hour at one point every 2 s over 4 columns: each column keeps 2 of its 450 points.
        let line: Vec<(f64, f64)> = (0..1800)
            .map(|i| (f64::from(i) * 2.0 - 3600.0, f64::from(i % 450)))
            .collect();
        let thin = envelope(&line, -3600.0, 4);
        assert_eq!(thin.len(), 8);
        assert!(
            thin.windows(2).all(|w| w[0].0 < w[1].0),
            "time order: {thin:?}"
        );
        for column in thin.chunks(2) {
            assert_eq!((column[0].1, column[1].1), (0.0, 449.0));
        }
    }
}
