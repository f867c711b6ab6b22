//! The audit log: the last operator actions of everyone on this pipeline, newest first — who,
//! when, what, on what, how many, and how it ended.

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::app::App;
use crate::keymap::{Action, Layer};
use crate::theme::Theme;
use voucherdeck_core::domain::text::{sanitize, truncate};
use voucherdeck_core::domain::{AuditEntry, AuditOutcome, short_duration};

use super::super::widgets::{centered, column_widths, data_table, modal_block};

const COLUMNS: [Constraint; 7] = [
    Length(8),
    Length(20),
    Length(10),
    Length(14),
    Length(5),
    Length(8),
    Fill(1),
];
const HEADER: [&str; 7] = ["time", "who", "action", "on", "count", "outcome", "detail"];

pub fn render_audit(app: &App, scroll: u16, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    // As tall as the entries need (a header, the table, a hint), within the screen.
    let n = app
        .view()
        .feeds
        .audit
        .entries
        .len()
        .min(usize::from(u16::MAX)) as u16;
    let popup = centered(
        area,
        area.width.saturating_sub(6).min(130),
        n.saturating_add(6)
            .max(8)
            .min(area.height.saturating_sub(4)),
    );
    let inner = modal_block(t, frame, popup, "Audit log", t.info);
    let [about, table_area, hint] = Layout::vertical([Length(1), Fill(1), Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(about_line(app)), about);
    let a = &app.view().feeds.audit;
    if a.entries.is_empty() {
        let text = match (&a.last_error, a.loaded_at) {
            (Some((e, _)), _) => Span::styled(format!(" cannot read the audit log: {e}"), t.error),
            (None, None) => Span::raw(format!(" {} reading the audit log…", app.spinner())),
            (None, Some(_)) => Span::styled(" no audited actions yet", t.muted),
        };
        frame.render_widget(Paragraph::new(Line::from(text)), table_area);
    } else {
        let skip = usize::from(scroll).min(a.entries.len().saturating_sub(1));
        let rows = rows(t, &a.entries[skip..], table_area.width);
        frame.render_widget(data_table(t, rows, COLUMNS, HEADER), table_area);
    }
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            format!(
                "{} close  {}/{} scroll",
                app.keymap.hint(Layer::Popup, Action::Close),
                app.keymap.hint(Layer::Popup, Action::Down),
                app.keymap.hint(Layer::Popup, Action::Up)
            ),
            t.muted,
        ))),
        hint,
    );
}

/// Where the entries come from and how fresh they are.
fn about_line(app: &App) -> Line<'static> {
    let (a, t) = (&app.view().feeds.audit, &app.view().theme);
    let mut spans = vec![Span::styled(
        format!(
            " every operator's gifts, redrives, deletes, purges and provisioning · {} shown",
            a.entries.len()
        ),
        t.muted,
    )];
    if let Some(at) = a.loaded_at {
        spans.push(Span::styled(
            format!(" · read {} ago", short_duration(at.until(app.now))),
            t.muted,
        ));
    }
    if let Some((e, at)) = a.entries.first().and(a.last_error.as_ref()) {
        spans.push(Span::styled(
            format!(" · stale: {e} at {}", at.hms()),
            t.error,
        ));
    }
    Line::from(spans)
}

/// The end of an actor (an ARN's role and session, a user's name): `…role/ops/ada`.
fn tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let keep: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{keep}")
}

/// The entry's detail, then the operator's note when there is one (`…; note: "why"`).
fn detail_and_note(e: &AuditEntry) -> String {
    match (e.detail.as_deref(), e.note.as_deref()) {
        (Some(d), Some(n)) => format!("{d}; note: {n:?}"),
        (None, Some(n)) => format!("note: {n:?}"),
        (d, None) => d.unwrap_or("").to_string(),
    }
}

fn rows(t: &Theme, entries: &[AuditEntry], width: u16) -> Vec<Row<'static>> {
    let w = column_widths(width, COLUMNS).map(usize::from);
    entries
        .iter()
        .map(|e| {
            let outcome = match e.outcome {
                AuditOutcome::Ok => Span::styled("ok", t.ok),
                AuditOutcome::Refused => Span::styled("refused", t.warn),
                AuditOutcome::Failed => Span::styled("failed", t.error),
            };
            Row::new(vec![
                Cell::from(e.at.hms()),
                Cell::from(tail(&sanitize(&e.actor), w[1].max(1))),
                Cell::from(e.action.as_str()),
                Cell::from(truncate(&sanitize(&e.target), w[3].max(1))),
                Cell::from(format!("{:>5}", e.count)),
                Cell::from(outcome),
                Cell::from(truncate(&sanitize(&detail_and_note(e)), w[6].max(1))),
            ])
        })
        .collect()
}
