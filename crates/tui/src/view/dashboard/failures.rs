//! Recent failures, newest first: filter, group by reason, details.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::app::App;
use crate::feeds::FailureGroup;
use crate::focus::Pane;
use crate::keymap::{Action, Layer};
use voucherdeck_core::domain::FailureRecord;
use voucherdeck_core::domain::limits::is_fifo_name;
use voucherdeck_core::domain::text::{sanitize, truncate};

use crate::theme::Theme;

use super::super::fit::{KEEP, Part, fit, title_room};
use super::super::widgets::{column_widths, masked, pane_block, render_data_table, short_id};

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
    let f = &app.view().feeds.failures;
    let shown = f.filtered();
    let t = &app.view().theme;
    let title = title(app, shown.len(), title_room(area.width));
    let block = pane_block(app, Pane::Failures, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if f.records.is_empty() || shown.is_empty() {
        frame.render_widget(Paragraph::new(empty_line(app)), inner);
        return;
    }
    if f.grouped {
        let groups = f.groups();
        let columns = (GROUP_COLUMNS, GROUP_HEADER);
        render_data_table(frame, inner, t, columns, (groups.len(), f.cursor), |i| {
            group_row(t, &groups[i])
        });
    } else {
        let widths = column_widths(inner.width, COLUMNS);
        let (recipient_w, reason_w) = (widths[2] as usize, widths[6] as usize);
        render_data_table(
            frame,
            inner,
            t,
            (COLUMNS, HEADER),
            (shown.len(), f.cursor),
            |i| failure_row(t, shown[i], recipient_w, reason_w),
        );
    }
}

/// "Recent failures 3/6", with the grouping and the filter (being typed, or kept); in a narrow
/// pane the keys to keep or clear the filter go first, then the counts.
fn title(app: &App, shown: usize, room: usize) -> Line<'static> {
    let (f, t) = (&app.view().feeds.failures, &app.view().theme);
    let mut title = vec![
        Part::one(KEEP, Span::styled(" Recent failures ", t.title)),
        Part::one(
            2,
            Span::styled(format!("{shown}/{} ", f.records.len()), t.muted),
        ),
    ];
    if f.grouped {
        title.push(Part::one(3, Span::styled("· grouped by reason ", t.accent)));
    }
    if is_fifo_name(&app.view().info.names.queue) {
        let held = f.held_groups(app.now);
        if let Some(newest) = held.first() {
            let group = truncate(&sanitize(newest.group.as_deref().unwrap_or_default()), 24);
            let others = match held.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            title.push(Part::one(
                2,
                Span::styled(format!("· held by a retry: group {group}{others} "), t.warn),
            ));
        }
    }
    if f.editing {
        title.push(Part::one(
            KEEP,
            Span::styled(format!("· filter: {}▏ ", sanitize(&f.filter)), t.editing),
        ));
        title.push(Part::one(
            1,
            Span::styled(
                format!(
                    "({} keep, {} clear) ",
                    app.keymap.hint(Layer::Input, Action::Submit),
                    app.keymap.hint(Layer::Input, Action::Cancel)
                ),
                t.muted,
            ),
        ));
    } else if !f.filter.is_empty() {
        title.push(Part::one(
            KEEP,
            Span::styled(format!("· filter: {} ", sanitize(&f.filter)), t.warn),
        ));
    }
    fit(title, room)
}

/// Why there is no row: the log fails, is loading, is empty, or nothing matches.
fn empty_line(app: &App) -> Line<'static> {
    let (f, t) = (&app.view().feeds.failures, &app.view().theme);
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

fn group_row(t: &Theme, g: &FailureGroup<'_>) -> Row<'static> {
    Row::new(vec![
        Cell::from(format!("{:>5}", g.count)),
        Cell::from(g.kind.as_str()).style(kind_style(t, g.kind.is_permanent())),
        Cell::from(g.last_at.hms()),
        Cell::from(sanitize(g.reason)),
    ])
}

fn failure_row(t: &Theme, r: &FailureRecord, recipient_w: usize, reason_w: usize) -> Row<'static> {
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
}

/// Permanent failures are errors; transient ones (retried) a warning.
fn kind_style(t: &Theme, permanent: bool) -> Style {
    if permanent { t.error } else { t.warn }
}
