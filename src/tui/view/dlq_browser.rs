//! The DLQ browser: peeked messages, a detail with the pretty-printed body, selection for actions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::domain::short_duration;
use crate::domain::text::{sanitize, truncate};
use crate::pipeline::DlqMessage;

use super::super::app::App;
use super::{FILL, dim, label, pane, split_cols, split_rows, title_style};

pub fn render_dlq_browser(app: &App, frame: &mut Frame, area: Rect) {
    let d = &app.dlq;
    if d.zoom {
        render_detail(app, frame, area);
        return;
    }
    let detail_w = (area.width * 45 / 100).max(30).min(area.width);
    let [list_area, detail_area] = split_cols(area, [FILL, detail_w]);
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
    let block = pane(Line::from(title));
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    let [note, table_area] = split_rows(inner, [1, FILL]);
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
        let text = if let Some(e) = &d.error {
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
        };
        frame.render_widget(Paragraph::new(text), table_area);
    } else {
        let reason_w = table_area.width.saturating_sub(3 + 10 + 3 + 8 + 10 + 6) as usize;
        let rows: Vec<Row> = d
            .entries
            .iter()
            .map(|e| {
                let sel = d.selected.contains(&e.message_id);
                let (kind, reason) = e.failure.as_ref().map_or(
                    ("—".to_string(), "(no failure attributes)".to_string()),
                    |f| (sanitize(&f.kind), sanitize(&f.reason)),
                );
                let row = Row::new(vec![
                    Cell::from(if sel { "[x]" } else { "[ ]" }),
                    Cell::from(truncate(&sanitize(&e.message_id), 10)),
                    Cell::from(format!("{:>3}", e.receive_count)),
                    Cell::from(
                        e.sent_at
                            .map_or_else(|| "—".to_string(), crate::domain::Timestamp::hms),
                    ),
                    Cell::from(truncate(&kind, 10)),
                    Cell::from(truncate(&reason, reason_w.max(1))),
                ]);
                if sel {
                    row.style(Style::new().fg(Color::Yellow))
                } else {
                    row
                }
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Length(10),
                Constraint::Length(3),
                Constraint::Length(8),
                Constraint::Length(10),
                Constraint::Fill(1),
            ],
        )
        .header(
            Row::new(vec!["sel", "message", "rcv", "sent", "kind", "reason"])
                .style(Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)),
        )
        .row_highlight_style(
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        );
        let mut state = TableState::default().with_selected(Some(d.cursor));
        frame.render_stateful_widget(table, table_area, &mut state);
    }
    render_detail(app, frame, detail_area);
}

/// The lines of one message's detail.
pub fn detail_lines(e: &DlqMessage) -> Vec<Line<'static>> {
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), label()),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        kv("message id", sanitize(&e.message_id)),
        kv("receive count", e.receive_count.to_string()),
        kv(
            "sent",
            e.sent_at.map_or_else(|| "—".to_string(), |t| t.to_string()),
        ),
    ];
    match &e.failure {
        Some(f) => {
            lines.push(kv("failure", sanitize(&f.kind)));
            lines.push(kv("reason", sanitize(&f.reason)));
            lines.push(kv(
                "worker",
                f.worker
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(kv(
                "first seen",
                f.first_seen
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(kv(
                "source queue",
                f.source_queue
                    .as_deref()
                    .map_or_else(|| "—".to_string(), sanitize),
            ));
        }
        None => lines.push(kv(
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
