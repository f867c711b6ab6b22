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

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::{fmt_rate, pane_block};

/// Width of the figures column.
const FIGURES_W: u16 = 25;
/// Beside the compact figures, a chart narrower than this says nothing.
const CHART_MIN_W: u16 = 20;

pub fn render_depth(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let key = app.keymap.hint(Layer::Dashboard, Action::WindowCycle);
    let title = fit(
        vec![
            Part::one(KEEP, Span::styled(" Queue depth ", t.title)),
            Part::one(
                KEEP,
                Span::styled(format!("{} ", app.view().info.names.queue), t.muted),
            ),
            Part::one(
                2,
                Span::styled(format!("· last {} ", app.window.label()), t.muted),
            ),
            Part::one(1, Span::styled(format!("({key} cycles) "), t.muted)),
        ],
        title_room(area.width),
    );
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
    // Wide, the figures have a column of their own and a note; narrower, a compact column (no note)
    // keeps room for the chart, and only when even that leaves no chart do the figures take the pane.
    let wide = figures(app, latest, false);
    let compact = figures(app, latest, true);
    let compact_w = compact.iter().map(Line::width).max().unwrap_or(0) as u16 + 1;
    let (lines, figures_w) = if inner.width >= FIGURES_W + 30 {
        (wide, FIGURES_W)
    } else if inner.width >= compact_w + CHART_MIN_W {
        (compact, compact_w)
    } else if inner.width >= FIGURES_W {
        (wide, inner.width)
    } else {
        (compact, inner.width)
    };
    let [chart_area, fig_area] = Layout::horizontal([Fill(1), Length(figures_w)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), fig_area);
    render_chart(app, frame, chart_area);
}

/// The newest figures, the rates, and a note on where they come from (or that they are stale);
/// compact, the names take 11 columns and the values what they need, and only a stale note stays.
fn figures(app: &App, latest: &DepthSample, compact: bool) -> Vec<Line<'static>> {
    let t = &app.view().theme;
    let stale = matches!(connection(app), Connection::Stale { .. });
    let q = latest.queue;
    let r = rates(app);
    let value_style = if stale { t.muted } else { t.strong };
    let rate = |v: Option<f64>, approx: bool| match v {
        Some(v) => format!("{}{}", if approx { "≈" } else { "" }, fmt_rate(v)),
        None => "—".to_string(),
    };
    let rows = [
        ("visible", q.visible.to_string(), t.series_visible),
        ("in flight", q.in_flight.to_string(), t.series_in_flight),
        ("delayed", q.delayed.to_string(), t.series_delayed),
        (
            "outstanding",
            (q.visible + q.in_flight).to_string(),
            t.series_total,
        ),
        ("sent/s", rate(r.sent, true), t.label),
        ("processed/s", rate(r.processed, false), t.label),
    ];
    let (name_w, value_w) = if compact {
        let widest = rows.iter().map(|(_, v, _)| v.chars().count()).max();
        (11, widest.unwrap_or(0).max(4) + 1)
    } else {
        (12, 9)
    };
    let mut lines: Vec<Line<'static>> = rows
        .into_iter()
        .map(|(name, v, style): (&str, String, Style)| {
            Line::from(vec![
                Span::styled(format!(" {name:<name_w$}"), style),
                Span::styled(format!("{v:>value_w$}"), value_style),
            ])
        })
        .collect();
    if stale {
        let note = if compact { " stale" } else { " stale: as of" };
        lines.push(Line::from(Span::styled(
            format!("{note} {}", q.as_of.hms()),
            t.alarm,
        )));
    } else if !compact && r.processed.is_none() {
        lines.push(Line::from(Span::styled(
            " processed: no local worker",
            t.muted,
        )));
    } else if !compact {
        lines.push(Line::from(Span::styled(
            " sent ≈ Δdepth+processed",
            t.muted,
        )));
    }
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
    // A narrow chart has no room for the middle label between the ends.
    let mut x_labels = vec![Span::styled(
        format!("-{}", short_duration(window)),
        t.label,
    )];
    if area.width >= 30 {
        x_labels.push(Span::styled(
            format!("-{}", short_duration(window / 2)),
            t.label,
        ));
    }
    x_labels.push(Span::styled("now", t.label));
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
