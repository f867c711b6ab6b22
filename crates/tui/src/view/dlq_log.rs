//! The DLQ browser in read-only mode. A peek is a receive: it raises each message's receive count
//! and hides it for a while, so a read-only dashboard does not peek. It shows what changes
//! nothing: the DLQ's counts and oldest age, and the failure log's records of messages sent to the
//! DLQ (Enter shows one in full).

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState, Wrap};

use crate::app::App;
use crate::figures::{AgeView, age_view};
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::short_duration;
use voucherdeck_core::domain::text::{sanitize, truncate};

use super::widgets::{column_widths, data_table, field_line, pane, short_id};

const COLUMNS: [Constraint; 5] = [Length(8), Length(9), Length(3), Length(11), Fill(1)];
const HEADER: [&str; 5] = ["time", "message", "rcv", "kind", "reason"];

pub fn render_dlq_log(app: &App, frame: &mut Frame, area: Rect) {
    let side_w = 40.min(area.width / 3);
    let [list_area, side_area] = Layout::horizontal([Fill(1), Length(side_w)]).areas(area);
    render_records(app, frame, list_area);
    render_queue(app, frame, side_area);
}

fn render_records(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let records = app.view().feeds.failures.dead_lettered();
    let title = Line::from(vec![
        Span::styled(" DLQ ", t.title),
        Span::styled(format!("{} ", app.view().info.names.dlq), t.strong),
        Span::styled("· read-only: not peeked ", t.warn),
        Span::styled(
            format!("· {} dead-lettered in the failure log ", records.len()),
            t.muted,
        ),
    ]);
    let block = pane(t, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [note, table_area] = Layout::vertical([Length(3), Fill(1)]).areas(inner);
    let why = format!(
        " A peek is a receive: it raises each message's receive count and hides it for {}. \
         Listed instead: the failure log's records of messages sent to the DLQ, newest first ({} details).",
        short_duration(app.view().info.peek_visibility),
        app.keymap.hint(Layer::DlqBrowser, Action::Details)
    );
    frame.render_widget(
        Paragraph::new(Span::styled(why, t.muted)).wrap(Wrap { trim: false }),
        note,
    );
    if records.is_empty() {
        let text = match &app.view().feeds.failures.last_error {
            Some((e, _)) => Span::styled(format!(" cannot read the failure log: {e}"), t.error),
            None if !app.view().feeds.failures.loaded => {
                Span::raw(format!(" {} reading the failure log…", app.spinner()))
            }
            None => Span::styled(" no dead-lettered messages in the failure log", t.ok),
        };
        frame.render_widget(Paragraph::new(Line::from(text)), table_area);
        return;
    }
    let w = column_widths(table_area.width, COLUMNS).map(usize::from);
    let rows: Vec<Row<'static>> = records
        .iter()
        .map(|r| {
            Row::new(vec![
                Cell::from(r.at.hms()),
                Cell::from(short_id(&r.message_id)),
                Cell::from(format!("{:>3}", r.receive_count)),
                Cell::from(r.kind.as_str()),
                Cell::from(truncate(&sanitize(&r.reason), w[4].max(1))),
            ])
        })
        .collect();
    let cursor = app.view().dlq.cursor.min(records.len() - 1);
    let mut state = TableState::default().with_selected(Some(cursor));
    frame.render_stateful_widget(data_table(t, rows, COLUMNS, HEADER), table_area, &mut state);
}

/// The queue itself, from its counts and its oldest age: nothing here touches a message.
fn render_queue(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let block = pane(t, Line::from(Span::styled(" The DLQ itself ", t.title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    match app.view().feeds.depth.latest() {
        Some(s) => {
            lines.push(field_line(t, "visible", s.dlq.visible.to_string()));
            lines.push(field_line(t, "in flight", s.dlq.in_flight.to_string()));
            lines.push(field_line(t, "delayed", s.dlq.delayed.to_string()));
            lines.push(field_line(t, "counted at", s.at.hms()));
        }
        None => lines.push(Line::from(format!(
            "{} waiting for the first poll…",
            app.spinner()
        ))),
    }
    let oldest = match age_view(app, true) {
        AgeView::Current { age, .. } => short_duration(age),
        AgeView::Stale { age, .. } => format!("{} (stale)", short_duration(age)),
        AgeView::NoData(why) => why,
    };
    lines.push(field_line(t, "oldest", oldest));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Counts: queue attributes (approximate on SQS). Peeking, deleting and redriving \
         chosen messages need a dashboard that is not read-only.",
        t.muted,
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
