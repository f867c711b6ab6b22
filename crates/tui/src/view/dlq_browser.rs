//! The DLQ browser: peeked messages, a detail with the pretty-printed body, selection for actions.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use crate::app::App;
use crate::figures::dlq_figures;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::text::{sanitize, truncate};
use voucherdeck_core::domain::{Timestamp, short_duration};
use voucherdeck_pipeline::DLQ_HOLD;
use voucherdeck_pipeline::DlqMessage;

use crate::theme::Theme;

use super::widgets::{column_widths, field_line, pane, render_data_table};

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
    let d = &app.view().dlq;
    if d.zoom {
        render_detail(app, frame, area);
        return;
    }
    let detail_w = (area.width * 45 / 100).max(30).min(area.width);
    let [list_area, detail_area] = Layout::horizontal([Fill(1), Length(detail_w)]).areas(area);
    let t = &app.view().theme;
    let block = pane(t, list_title(app));
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    let [note, filter, table_area] = Layout::vertical([Length(1), Length(1), Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(cost_line(app)), note);
    frame.render_widget(Paragraph::new(filter_line(app)), filter);
    let rows = d.page_rows();
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(empty_line(app)), table_area);
    } else {
        let widths = column_widths(table_area.width, COLUMNS);
        let entries = (rows.len(), d.cursor);
        render_data_table(frame, table_area, t, (COLUMNS, HEADER), entries, |i| {
            row(app, rows[i], widths)
        });
    }
    render_detail(app, frame, detail_area);
}

/// "DLQ name · 1–100 of ~1,234 · page 1/13 · 2 selected · read at 12:03:07".
fn list_title(app: &App) -> Line<'static> {
    let (d, t) = (&app.view().dlq, &app.view().theme);
    let approx = dlq_figures(app).map(|f| f.count);
    let mut title = vec![
        Span::styled(" DLQ ", t.title),
        Span::styled(format!("{} ", app.view().info.names.dlq), t.strong),
        Span::styled(format!("· {} ", d.range_words(approx)), t.strong),
    ];
    if !d.selected.is_empty() {
        title.push(Span::styled(
            format!("· {} selected ", d.selected.len()),
            t.marked.bold(),
        ));
    }
    if d.loading {
        let what = match d.progress {
            Some(n) => format!("reading {n} of ~{} ", approx.unwrap_or(0).max(n as u64)),
            None => "reading… ".to_string(),
        };
        title.push(Span::styled(format!("{} {what}", app.spinner()), t.info));
    }
    Line::from(title)
}

/// What paging costs, in one line.
fn cost_line(app: &App) -> Line<'static> {
    let km = &app.keymap;
    Line::from(Span::styled(
        format!(
            " {}/{} page (10 receives); read pages stay hidden till {}, {}",
            km.hint(Layer::DlqBrowser, Action::NextPage),
            km.hint(Layer::DlqBrowser, Action::PrevPage),
            km.hint(Layer::DlqBrowser, Action::Back),
            short_duration(DLQ_HOLD),
        ),
        app.view().theme.muted,
    ))
}

/// What the detail says of a message whose body the browser did not keep.
const DROPPED: &str = "(not kept: the browser keeps the first 32 MiB of bodies it reads, then ids, \
     receipts and reasons; e exports every message with its body, reading these again; \
     `voucherdeck dlq resend ID` edits one)";

/// The filter, being typed or applied, over every loaded message.
fn filter_line(app: &App) -> Line<'static> {
    let (d, t) = (&app.view().dlq, &app.view().theme);
    let key = app.keymap.hint(Layer::DlqBrowser, Action::Filter);
    if d.editing {
        return Line::from(vec![
            Span::styled(" filter: ", t.label),
            Span::styled(format!("{}▏", sanitize(&d.filter)), t.editing),
            Span::styled(
                "  (body, kind, reason or id; every loaded message)",
                t.muted,
            ),
        ]);
    }
    if d.filter.trim().is_empty() {
        let scope = if d.exhausted {
            let read = d
                .loaded_at
                .map_or_else(String::new, |at| format!(" at {}", at.hms()));
            let n = d.entries.len();
            format!(
                "all {n} message{} read{read}",
                if n == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{} read; {} reads them all",
                d.entries.len(),
                app.keymap.hint(Layer::DlqBrowser, Action::LoadAll)
            )
        };
        return Line::from(Span::styled(format!(" {key} filter · {scope}"), t.muted));
    }
    let dropped = d.bodies_dropped();
    let unsearched = if dropped > 0 {
        format!(" (the bodies of {dropped} were not kept: only their id, kind and reason searched)")
    } else {
        String::new()
    };
    Line::from(vec![
        Span::styled(" filter: ", t.label),
        Span::styled(sanitize(&d.filter), t.accent),
        Span::styled(format!("  {} match{unsearched}", d.rows().len()), t.muted),
    ])
}

/// Why the list is empty: the peek failed, is running, or found nothing.
fn empty_line(app: &App) -> Line<'static> {
    let (d, t) = (&app.view().dlq, &app.view().theme);
    if let Some(e) = &d.error {
        Line::from(Span::styled(format!(" peek failed: {e}"), t.error))
    } else if d.loading || d.loaded_at.is_none() {
        Line::from(format!(" {} reading the DLQ…", app.spinner()))
    } else if !d.filter.trim().is_empty() {
        Line::from(Span::styled(" no message matches the filter", t.muted))
    } else {
        Line::from(Span::styled(
            " the DLQ is empty (nothing visible to peek)",
            t.ok,
        ))
    }
}

fn row(app: &App, e: &DlqMessage, widths: [u16; 6]) -> Row<'static> {
    let (d, t) = (&app.view().dlq, &app.view().theme);
    let (id_w, kind_w, reason_w) = (widths[1] as usize, widths[4] as usize, widths[5] as usize);
    let sel = d.selected.contains(&e.message_id);
    let (kind, reason) = e.failure.as_ref().map_or(
        ("—".to_string(), "(no failure attributes)".to_string()),
        |f| (sanitize(f.kind()), sanitize(&f.reason())),
    );
    let row = Row::new(vec![
        Cell::from(if sel { "[x]" } else { "[ ]" }),
        Cell::from(truncate(&sanitize(&e.message_id), id_w.max(1))),
        Cell::from(format!("{:>3}", e.receive_count)),
        Cell::from(e.sent_at.map_or_else(|| "—".to_string(), Timestamp::hms)),
        Cell::from(truncate(&kind, kind_w.max(1))),
        Cell::from(truncate(&reason, reason_w.max(1))),
    ]);
    if sel { row.style(t.marked) } else { row }
}

/// The lines of one message's detail.
pub fn detail_lines(t: &Theme, e: &DlqMessage) -> Vec<Line<'static>> {
    let mut lines = vec![
        field_line(t, "message id", sanitize(&e.message_id)),
        field_line(t, "receive count", e.receive_count.to_string()),
        field_line(
            t,
            "sent",
            e.sent_at.map_or_else(|| "—".to_string(), |t| t.to_string()),
        ),
    ];
    if let Some(group) = &e.group {
        lines.push(field_line(t, "group", sanitize(group)));
    }
    match &e.failure {
        Some(f) => {
            lines.push(field_line(t, "failure", sanitize(f.kind())));
            lines.push(field_line(t, "reason", sanitize(&f.reason())));
            lines.push(field_line(
                t,
                "worker",
                f.worker().map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(field_line(
                t,
                "first seen",
                f.first_seen().map_or_else(|| "—".to_string(), sanitize),
            ));
            lines.push(field_line(
                t,
                "source queue",
                f.source_queue().map_or_else(|| "—".to_string(), sanitize),
            ));
        }
        None => lines.push(field_line(
            t,
            "failure",
            "no failure attributes (moved by SQS's redrive policy?)".into(),
        )),
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Body", t.title)));
    if e.body_dropped {
        lines.push(Line::from(Span::styled(DROPPED, t.warn)));
    } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.body) {
        let pretty = serde_json::to_string_pretty(&sorted(v)).unwrap_or_else(|_| e.body.clone());
        lines.extend(
            pretty
                .lines()
                .map(|l| Line::from(Span::styled(sanitize(l), t.text))),
        );
    } else {
        lines.push(Line::from(Span::styled(
            "(not JSON; shown as text)",
            t.warn,
        )));
        lines.push(Line::from(sanitize(&e.body)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Attributes", t.title)));
    if e.attributes.is_empty() {
        lines.push(Line::from(Span::styled("(none)", t.muted)));
    }
    for (k, v) in &e.attributes {
        lines.push(Line::from(vec![
            Span::styled(format!("{} = ", sanitize(k)), t.label),
            Span::raw(sanitize(v)),
        ]));
    }
    lines
}

fn render_detail(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let block = pane(t, Line::from(vec![Span::styled(" Message ", t.title)]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(e) = app.view().dlq.current() else {
        frame.render_widget(
            Paragraph::new(Span::styled(" no message under the cursor", t.muted)),
            inner,
        );
        return;
    };
    let lines = detail_lines(t, e);
    let max_scroll = (lines.len() as u16).saturating_sub(inner.height);
    let scroll = app.view().dlq.detail_scroll.min(max_scroll);
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
