//! Queue depth: visible, in flight, delayed, outstanding, now and over a window, with rates.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use crate::domain::short_duration;

use super::widgets::{dim, fmt_rate, label, pane, title_style};
use crate::tui::app::App;
use crate::tui::figures::{Connection, connection, rates};
use crate::tui::keymap::{Action, Layer};

/// Width of the figures column.
const FIGURES_W: u16 = 25;

pub fn render_depth(app: &App, frame: &mut Frame, area: Rect) {
    let key = app.keymap.hint(Layer::Dashboard, Action::WindowCycle);
    let title = Line::from(vec![
        Span::styled(" Queue depth ", title_style()),
        Span::styled(
            format!(
                "{} · last {} ({key} cycles) ",
                app.info.names.queue,
                app.window.label()
            ),
            dim(),
        ),
    ]);
    let block = pane(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let Some(latest) = app.depth.latest() else {
        let text = match &app.depth.last_error {
            Some((e, at)) => vec![
                Line::from(Span::styled(
                    "no data: the depth poll fails",
                    Style::new().fg(Color::Red),
                )),
                Line::from(Span::styled(format!("{} at {}", e, at.hms()), dim())),
            ],
            None => vec![Line::from(format!(
                "{} waiting for the first poll…",
                app.spinner()
            ))],
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    let stale = matches!(connection(app), Connection::Stale { .. });
    // A chart narrower than this says nothing: the figures take the pane.
    let figures_w = if inner.width < FIGURES_W + 30 {
        inner.width
    } else {
        FIGURES_W
    };
    let [chart_area, fig_area] = Layout::horizontal([Fill(1), Length(figures_w)]).areas(inner);

    let q = latest.queue;
    let r = rates(app);
    let value_style = if stale {
        dim()
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let row = |name: &str, v: String, color: Color| {
        Line::from(vec![
            Span::styled(format!(" {name:<12}"), Style::new().fg(color)),
            Span::styled(format!("{v:>9}"), value_style),
        ])
    };
    let rate = |v: Option<f64>, approx: bool| match v {
        Some(v) => format!("{}{}", if approx { "≈" } else { "" }, fmt_rate(v)),
        None => "—".to_string(),
    };
    let mut lines = vec![
        row("visible", q.visible.to_string(), Color::Cyan),
        row("in flight", q.in_flight.to_string(), Color::Yellow),
        row("delayed", q.delayed.to_string(), Color::Magenta),
        row(
            "outstanding",
            (q.visible + q.in_flight).to_string(),
            Color::White,
        ),
        row("sent/s", rate(r.sent, true), Color::Gray),
        row("processed/s", rate(r.processed, false), Color::Gray),
    ];
    if stale {
        lines.push(Line::from(Span::styled(
            format!(" stale: as of {}", q.as_of.hms()),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )));
    } else if r.processed.is_none() {
        lines.push(Line::from(Span::styled(
            " processed: no local worker",
            dim(),
        )));
    } else {
        lines.push(Line::from(Span::styled(" sent ≈ Δdepth+processed", dim())));
    }
    frame.render_widget(Paragraph::new(lines), fig_area);

    render_chart(app, frame, chart_area);
}

fn render_chart(app: &App, frame: &mut Frame, area: Rect) {
    if area.width < 12 || area.height < 4 {
        return;
    }
    let window = app.window.duration();
    let mut visible = Vec::new();
    let mut in_flight = Vec::new();
    let mut outstanding = Vec::new();
    let mut y_max = 1.0f64;
    for p in app.depth.history.window(app.now, window) {
        let x = -(p.at.until(app.now).as_secs_f64());
        let q = p.queue;
        let o = (q.visible + q.in_flight) as f64;
        visible.push((x, q.visible as f64));
        in_flight.push((x, q.in_flight as f64));
        outstanding.push((x, o));
        y_max = y_max.max(o).max(q.visible as f64);
    }
    let y_top = (y_max * 1.2).ceil();
    let datasets = vec![
        Dataset::default()
            .name("outstanding")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::White))
            .data(&outstanding),
        Dataset::default()
            .name("visible")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Cyan))
            .data(&visible),
        Dataset::default()
            .name("in flight")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Yellow))
            .data(&in_flight),
    ];
    let w = window.as_secs_f64();
    let x_labels = vec![
        Span::styled(format!("-{}", short_duration(window)), label()),
        Span::styled(format!("-{}", short_duration(window / 2)), label()),
        Span::styled("now", label()),
    ];
    let y_labels = vec![
        Span::styled("0", label()),
        Span::styled(format!("{}", (y_top / 2.0).round()), label()),
        Span::styled(format!("{y_top}"), label()),
    ];
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([-w, 0.0])
                .labels(x_labels)
                .style(dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_top])
                .labels(y_labels)
                .style(dim()),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}
