//! The DLQ browser: peeked messages, a detail with the pretty-printed body, selection for actions.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState, Wrap};

use crate::domain::text::{sanitize, truncate};
use crate::domain::{Timestamp, short_duration};
use crate::pipeline::DlqMessage;
use crate::tui::app::App;

use super::widgets::{column_widths, data_table, dim, field_line, label, pane, title_style};

/// The peeked messages, one a row.
const COLUMNS: [Constraint; 6] = [
    Length(3),
    Length(10),
    Length(3),
    Length(8),
    Length(10),
    Fill(1),
];
const HEADER: [&str; 6] = ["sel", "message", "rcv", "sent", "kind", "reason"];

pub fn render_dlq_browser(app: &App, frame: &mut Frame, area: Rect) {
    let d = &app.dlq;
    if d.zoom {
        render_detail(app, frame, area);
        return;
    }
    let detail_w = (area.width * 45 / 100).max(30).min(area.width);
    let [list_area, detail_area] = Layout::horizontal([Fill(1), Length(detail_w)]).areas(area);
    let block = pane(list_title(app));
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    let [note, table_area] = Layout::vertical([Length(1), Fill(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            format!(
                " DLQ-only peek, {} visibility: raises receive counts",
                short_duration(app.info.peek_visibility)
            ),
            dim(),
        ))),
        note,
    );
    if d.entries.is_empty() {
        frame.render_widget(Paragraph::new(empty_line(app)), table_area);
    } else {
        let table = data_table(rows(app, table_area.width), COLUMNS, HEADER);
        let mut state = TableState::default().with_selected(Some(d.cursor));
        frame.render_stateful_widget(table, table_area, &mut state);
    }
    render_detail(app, frame, detail_area);
}

/// "DLQ name · 2 selected · 3 peeked at 12:03:07".
fn list_title(app: &App) -> Line<'static> {
    let d = &app.dlq;
    let mut title = vec![
        Span::styled(" DLQ ", title_style()),
        Span::styled(
            format!("{} ", app.info.names.dlq),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ];
    if !d.selected.is_empty() {
        title.push(Span::styled(
            format!("· {} selected ", d.selected.len()),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if d.loading {
        title.push(Span::styled(
            format!("{} peeking… ", app.spinner()),
            Style::new().fg(Color::Cyan),
        ));
    } else if let Some(t) = d.loaded_at {
        title.push(Span::styled(
            format!("· {} peeked at {} ", d.entries.len(), t.hms()),
            dim(),
        ));
    }
    Line::from(title)
}

/// Why the list is empty: the peek failed, is running, or found nothing.
fn empty_line(app: &App) -> Line<'static> {
    let d = &app.dlq;
    if let Some(e) = &d.error {
        Line::from(Span::styled(
            format!(" peek failed: {e}"),
            Style::new().fg(Color::Red),
        ))
    } else if d.loading || d.loaded_at.is_none() {
        Line::from(format!(" {} peeking the DLQ…", app.spinner()))
    } else {
        Line::from(Span::styled(
            " the DLQ is empty (nothing visible to peek)",
            Style::new().fg(Color::Green),
        ))
    }
}

fn rows(app: &App, width: u16) -> Vec<Row<'static>> {
    let d = &app.dlq;
    let widths = column_widths(width, COLUMNS);
    let (id_w, kind_w, reason_w) = (widths[1] as usize, widths[4] as usize, widths[5] as usize);
    d.entries
        .iter()
        .map(|e| {
            let sel = d.selected.contains(&e.message_id);
            let (kind, reason) = e.failure.as_ref().map_or(
                ("—".to_string(), "(no failure attributes)".to_string()),
                |f| (sanitize(&f.kind), sanitize(&f.reason)),
            );
            let row = Row::new(vec![
                Cell::from(if sel { "[x]" } else { "[ ]" }),
                Cell::from(truncate(&sanitize(&e.message_id), id_w.max(1))),
                Cell::from(format!("{:>3}", e.receive_count)),
                Cell::from(e.sent_at.map_or_else(|| "—".to_string(), Timestamp::hms)),
                Cell::from(truncate(&kind, kind_w.max(1))),
                Cell::from(truncate(&reason, reason_w.max(1))),
            ]);
            if sel {
                row.style(Style::new().fg(Color::Yellow))
            } else {
                row
            }
        })
        .collect()
}

/// The lines of one message's detail.
pub fn detail_lines(e: &DlqMessage) -> Vec<Line<'static>> {
    let mut lines = vec![
        field_line("message id", sanitize(&e.message_id)),
        field_line("receive count", e.receive_count.to_string()),
        field_line(
            "sent",
            e.sent_at.map_or_else(|| "—".to_string(), |t| t.to_string()),
        ),
    ];
    match &e.failure {
        Some(f) => {
            lines.push(field_line("failure", sanitize(&f.kind)));
            lines.push(field_line("reason", sanitize(&f.reason)));
            lines.push(field_line(
                "worker",
                f.worker
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(field_line(
                "first seen",
                f.first_seen
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(field_line(
                "source queue",
                f.source_queue
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
        }
        None => lines.push(field_line(
            "failure",
            "no failure attributes (moved by SQS's redrive policy?)".into(),
        )),
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Body", title_style())));
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.body) {
        let pretty = serde_json::to_string_pretty(&sorted(v)).unwrap_or_else(|_| e.body.clone());
        lines.extend(
            pretty
                .lines()
                .map(|l| Line::from(Span::styled(sanitize(l), Style::new().fg(Color::White)))),
        );
    } else {
        lines.push(Line::from(Span::styled(
            "(not JSON; shown as text)",
            Style::new().fg(Color::Yellow),
        )));
        lines.push(Line::from(sanitize(&e.body)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Attributes", title_style())));
    if e.attributes.is_empty() {
        lines.push(Line::from(Span::styled("(none)", dim())));
    }
    for (k, v) in &e.attributes {
        lines.push(Line::from(vec![
            Span::styled(format!("{} = ", sanitize(k)), label()),
            Span::raw(sanitize(v)),
        ]));
    }
    lines
}

fn render_detail(app: &App, frame: &mut Frame, area: Rect) {
    let block = pane(Line::from(vec![Span::styled(" Message ", title_style())]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(e) = app.dlq.current() else {
        frame.render_widget(
            Paragraph::new(Span::styled(" no message under the cursor", dim())),
            inner,
        );
        return;
    };
    let lines = detail_lines(e);
    let max_scroll = (lines.len() as u16).saturating_sub(inner.height);
    let scroll = app.dlq.detail_scroll.min(max_scroll);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

/// The same JSON with object keys sorted, so the detail reads the same whatever serde_json features
/// the build has (`preserve_order` keeps insertion order, the default sorts).
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}
