//! Recent failures, newest first: filter, group by reason, details.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::domain::text::{sanitize, truncate};

use super::super::app::App;
use super::super::figures::{failure_groups, filtered_failures};
use super::super::keymap::{Action, Layer};
use super::{dim, pane, short_id, title_style};

pub fn render_failures(app: &App, frame: &mut Frame, area: Rect) {
    if area.height < 3 {
        return;
    }
    let f = &app.failures;
    let shown = filtered_failures(app).len();
    let mut title = vec![
        Span::styled(" Recent failures ", title_style()),
        Span::styled(format!("{shown}/{} ", f.records.len()), dim()),
    ];
    if f.grouped {
        title.push(Span::styled(
            "· grouped by reason ",
            Style::new().fg(Color::Magenta),
        ));
    }
    if f.editing {
        title.push(Span::styled(
            format!("· filter: {}▏ ", sanitize(&f.filter)),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ));
        title.push(Span::styled(
            format!(
                "({} keep, {} clear) ",
                app.keymap.hint(Layer::Input, Action::Submit),
                app.keymap.hint(Layer::Input, Action::Cancel)
            ),
            dim(),
        ));
    } else if !f.filter.is_empty() {
        title.push(Span::styled(
            format!("· filter: {} ", sanitize(&f.filter)),
            Style::new().fg(Color::Yellow),
        ));
    }
    let block = pane(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if f.records.is_empty() || shown == 0 {
        let text = if let Some((e, at)) = &f.last_error {
            Line::from(Span::styled(
                format!(" failure log: {e} (at {})", at.hms()),
                Style::new().fg(Color::Red),
            ))
        } else if !f.loaded && f.records.is_empty() {
            Line::from(format!(" {} loading the failure log…", app.spinner()))
        } else if f.records.is_empty() {
            Line::from(Span::styled(
                " no failures recorded",
                Style::new().fg(Color::Green),
            ))
        } else {
            Line::from(Span::styled(" no failure matches the filter", dim()))
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }

    let header_style = Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD);
    let highlight = Style::new()
        .bg(Color::DarkGray)
        .add_modifier(Modifier::BOLD);
    let mut state = TableState::default().with_selected(Some(f.cursor));
    if f.grouped {
        let rows: Vec<Row> = failure_groups(app)
            .into_iter()
            .map(|g| {
                Row::new(vec![
                    Cell::from(format!("{:>5}", g.count)),
                    Cell::from(g.kind.as_str()).style(kind_style(g.kind.is_permanent())),
                    Cell::from(g.last_at.hms()),
                    Cell::from(sanitize(g.reason)),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(5),
                Constraint::Length(11),
                Constraint::Length(9),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(vec!["count", "kind", "last", "reason"]).style(header_style))
        .row_highlight_style(highlight);
        frame.render_stateful_widget(table, inner, &mut state);
        return;
    }
    let reason_w = inner.width.saturating_sub(8 + 9 + 18 + 11 + 3 + 3 + 6) as usize;
    let rows: Vec<Row> = filtered_failures(app)
        .into_iter()
        .map(|r| {
            Row::new(vec![
                Cell::from(r.at.hms()),
                Cell::from(
                    r.voucher_id
                        .map_or_else(|| "—".to_string(), |v| short_id(&v.to_string())),
                ),
                Cell::from(truncate(&masked(r.recipient.as_deref()), 18)),
                Cell::from(r.kind.as_str()).style(kind_style(r.kind.is_permanent())),
                Cell::from(format!("{:>3}", r.receive_count)),
                Cell::from(if r.dead_lettered { "DLQ" } else { "" })
                    .style(Style::new().fg(Color::Red)),
                Cell::from(truncate(&sanitize(&r.reason), reason_w.max(1))),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(18),
            Constraint::Length(11),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(vec![
            "time",
            "voucher",
            "recipient",
            "kind",
            "rcv",
            "",
            "reason",
        ])
        .style(header_style),
    )
    .row_highlight_style(highlight);
    frame.render_stateful_widget(table, inner, &mut state);
}

/// The log stores masked recipients; mask again anything that does not look masked.
pub(crate) fn masked(recipient: Option<&str>) -> String {
    match recipient {
        None => "—".to_string(),
        Some(r) if r.contains('*') || r.contains('…') => sanitize(r),
        Some(r) => sanitize(&crate::domain::mask(r)),
    }
}

fn kind_style(permanent: bool) -> Style {
    if permanent {
        Style::new().fg(Color::Red)
    } else {
        Style::new().fg(Color::Yellow)
    }
}
