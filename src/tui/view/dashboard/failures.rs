//! Recent failures, newest first: filter, group by reason, details.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, TableState};

use crate::domain::text::{sanitize, truncate};
use crate::tui::app::App;
use crate::tui::focus::Pane;
use crate::tui::keymap::{Action, Layer};

use crate::tui::theme::Theme;

use super::super::widgets::{column_widths, data_table, masked, pane_block, short_id};

/// The failures, one a row.
const COLUMNS: [Constraint; 7] = [
    Length(8),
    Length(9),
    Length(18),
    Length(11),
    Length(3),
    Length(3),
    Fill(1),
];
const HEADER: [&str; 7] = ["time", "voucher", "recipient", "kind", "rcv", "", "reason"];

/// The failures grouped by reason, one group a row.
const GROUP_COLUMNS: [Constraint; 4] = [Length(5), Length(11), Length(9), Fill(1)];
const GROUP_HEADER: [&str; 4] = ["count", "kind", "last", "reason"];

pub fn render_failures(app: &App, frame: &mut Frame, area: Rect) {
    if area.height < 3 {
        return;
    }
    let f = &app.feeds.failures;
    let shown = app.feeds.failures.filtered().len();
    let t = &app.theme;
    let block = pane_block(app, Pane::Failures, title(app, shown));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if f.records.is_empty() || shown == 0 {
        frame.render_widget(Paragraph::new(empty_line(app)), inner);
        return;
    }
    let mut state = TableState::default().with_selected(Some(f.cursor));
    let table = if f.grouped {
        data_table(t, group_rows(app), GROUP_COLUMNS, GROUP_HEADER)
    } else {
        data_table(t, failure_rows(app, inner.width), COLUMNS, HEADER)
    };
    frame.render_stateful_widget(table, inner, &mut state);
}

/// "Recent failures 3/6", with the grouping and the filter (being typed, or kept).
fn title(app: &App, shown: usize) -> Line<'static> {
    let (f, t) = (&app.feeds.failures, &app.theme);
    let mut title = vec![
        Span::styled(" Recent failures ", t.title),
        Span::styled(format!("{shown}/{} ", f.records.len()), t.muted),
    ];
    if f.grouped {
        title.push(Span::styled("· grouped by reason ", t.accent));
    }
    if f.editing {
        title.push(Span::styled(
            format!("· filter: {}▏ ", sanitize(&f.filter)),
            t.editing,
        ));
        title.push(Span::styled(
            format!(
                "({} keep, {} clear) ",
                app.keymap.hint(Layer::Input, Action::Submit),
                app.keymap.hint(Layer::Input, Action::Cancel)
            ),
            t.muted,
        ));
    } else if !f.filter.is_empty() {
        title.push(Span::styled(
            format!("· filter: {} ", sanitize(&f.filter)),
            t.warn,
        ));
    }
    Line::from(title)
}

/// Why there is no row: the log fails, is loading, is empty, or nothing matches.
fn empty_line(app: &App) -> Line<'static> {
    let (f, t) = (&app.feeds.failures, &app.theme);
    if let Some((e, at)) = &f.last_error {
        Line::from(Span::styled(
            format!(" failure log: {e} (at {})", at.hms()),
            t.error,
        ))
    } else if !f.loaded && f.records.is_empty() {
        Line::from(format!(" {} loading the failure log…", app.spinner()))
    } else if f.records.is_empty() {
        Line::from(Span::styled(" no failures recorded", t.ok))
    } else {
        Line::from(Span::styled(" no failure matches the filter", t.muted))
    }
}

fn group_rows(app: &App) -> Vec<Row<'static>> {
    let t = &app.theme;
    app.feeds
        .failures
        .groups()
        .into_iter()
        .map(|g| {
            Row::new(vec![
                Cell::from(format!("{:>5}", g.count)),
                Cell::from(g.kind.as_str()).style(kind_style(t, g.kind.is_permanent())),
                Cell::from(g.last_at.hms()),
                Cell::from(sanitize(g.reason)),
            ])
        })
        .collect()
}

fn failure_rows(app: &App, width: u16) -> Vec<Row<'static>> {
    let t = &app.theme;
    let widths = column_widths(width, COLUMNS);
    let (recipient_w, reason_w) = (widths[2] as usize, widths[6] as usize);
    app.feeds
        .failures
        .filtered()
        .into_iter()
        .map(|r| {
            Row::new(vec![
                Cell::from(r.at.hms()),
                Cell::from(
                    r.voucher_id
                        .map_or_else(|| "—".to_string(), |v| short_id(&v.to_string())),
                ),
                Cell::from(truncate(
                    &masked(r.recipient.as_deref()),
                    recipient_w.max(1),
                )),
                Cell::from(r.kind.as_str()).style(kind_style(t, r.kind.is_permanent())),
                Cell::from(format!("{:>3}", r.receive_count)),
                Cell::from(if r.dead_lettered { "DLQ" } else { "" }).style(t.error),
                Cell::from(truncate(&sanitize(&r.reason), reason_w.max(1))),
            ])
        })
        .collect()
}

/// Permanent failures are errors; transient ones (retried) a warning.
fn kind_style(t: &Theme, permanent: bool) -> Style {
    if permanent { t.error } else { t.warn }
}
