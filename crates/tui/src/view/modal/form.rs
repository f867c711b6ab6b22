//! The forms: gift (five fields, each validated as you type) and redrive (destination, scope, body
//! filter, rate). A field is a label, its value, and a line under it for its error or a word of help.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::keymap::Layer;
use crate::modal::{GiftField, GiftForm, RedriveField, RedriveForm, ScopeChoice};
use crate::theme::Theme;
use voucherdeck_core::domain::gift::NOTE_MAX_CHARS;
use voucherdeck_core::domain::limits::REDRIVE_RATE;
use voucherdeck_core::domain::text::{sanitize, truncate};

use super::super::widgets::{centered, hint_line, input_line, modal_block};

/// A form's dialog, titled and coloured by what it does: up to 100 columns wide, `height` rows,
/// centred; returns the area inside.
fn form_dialog(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    (title, style): (&str, Style),
    height: u16,
) -> Rect {
    let popup = centered(area, area.width.saturating_sub(4).min(100), height);
    modal_block(&app.view().theme, frame, popup, title, style)
}

/// Draws a form's lines, with the keys that apply last.
fn show_form(app: &App, frame: &mut Frame, inner: Rect, mut lines: Vec<Line<'static>>) {
    lines.push(hint_line(app, Layer::Form));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A field's label, padded to `width`, in the focus style when focused.
fn field_label(t: &Theme, name: &str, width: usize, focused: bool) -> Span<'static> {
    let style = if focused { t.focus.bold() } else { t.label };
    Span::styled(format!("{name:<width$}"), style)
}

/// The line under a field, indented past the labels: its error (sanitized, cut to the form's
/// `width`), or else a word of help.
fn under_field(
    t: &Theme,
    indent: usize,
    width: usize,
    error: Option<String>,
    help: &str,
) -> Line<'static> {
    let text = match error {
        Some(e) => Span::styled(
            truncate(&sanitize(&e), width.saturating_sub(indent)),
            t.error,
        ),
        None if help.is_empty() => return Line::from(""),
        None => Span::styled(help.to_string(), t.muted),
    };
    Line::from(vec![Span::raw(" ".repeat(indent)), text])
}

/// The gift form's label column.
const GIFT_LABEL_W: usize = 11;

pub fn render_gift_form(app: &App, form: &GiftForm, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let title = if form.resend.is_some() {
        ("Edit and resend a DLQ message", t.warn)
    } else {
        ("Gift a voucher", t.ok)
    };
    let inner = form_dialog(app, frame, area, title, 17);
    let intro = match &form.resend {
        Some(_) => "Correct it: it is sent to its queue as a new message (same voucher id).".into(),
        None => format!(
            "To an email or a 0x wallet; at most {} per voucher.",
            app.view().info.limits.max_amount
        ),
    };
    let mut lines = vec![Line::from(Span::styled(intro, t.muted)), Line::from("")];
    for (i, &field) in GiftField::ALL.iter().enumerate() {
        lines.extend(gift_field_lines(app, form, i, field, inner.width as usize));
    }
    lines.push(Line::from(""));
    lines.push(if form.submitting {
        Line::from(Span::styled(
            format!("{} submitting…", app.spinner()),
            t.info,
        ))
    } else if let Some(e) = &form.form_error {
        Line::from(Span::styled(sanitize(e), t.alarm))
    } else {
        Line::from("")
    });
    show_form(app, frame, inner, lines);
}

/// A field's two lines: label, text and a ✓/✗ once reached; then its error or a word of help.
fn gift_field_lines(
    app: &App,
    form: &GiftForm,
    i: usize,
    field: GiftField,
    width: usize,
) -> [Line<'static>; 2] {
    let t = &app.view().theme;
    let focused = i == form.focus;
    let mark = match (form.touched[i], form.errors.contains_key(&field)) {
        (true, true) => Span::styled(" ✗", t.error),
        (true, false) => Span::styled(" ✓", t.ok),
        _ => Span::raw("  "),
    };
    let input_w = width.saturating_sub(GIFT_LABEL_W + 4);
    let error = form
        .shown_error(i)
        .map(|e| format!("{} {}", field.field().name(), sanitize(e)));
    let help = match field {
        GiftField::Note => "optional",
        GiftField::Currency => "ISO 4217, e.g. EUR; empty: USD",
        _ => "",
    };
    [
        Line::from(vec![
            field_label(t, field.label(), GIFT_LABEL_W, focused),
            input_line(t, form.value(field), focused, input_w),
            mark,
        ]),
        under_field(t, GIFT_LABEL_W, width, error, help),
    ]
}

/// The redrive form's label column.
const REDRIVE_LABEL_W: usize = 15;

/// A field's two lines: label and value; then its error or a word of help.
fn redrive_field_lines(
    app: &App,
    form: &RedriveForm,
    field: RedriveField,
    width: usize,
) -> [Line<'static>; 2] {
    let t = &app.view().theme;
    let focused = form.focus == field;
    let input_w = width.saturating_sub(REDRIVE_LABEL_W + 2);
    let (value, help) = match field {
        RedriveField::Destination => (
            input_line(t, &form.destination, focused, input_w),
            if form.destination.trim().is_empty() {
                format!(
                    "empty: back to the original source queue ({})",
                    app.view().info.names.queue
                )
            } else {
                "another queue, by name".to_string()
            },
        ),
        RedriveField::Scope => {
            let text = match form.scope {
                ScopeChoice::Selected => {
                    format!("◀ {} ({}) ▶", form.scope.label(), form.selected.len())
                }
                other => format!("◀ {} ▶", other.label()),
            };
            let style = if focused { t.input_focused } else { t.text };
            (
                Span::styled(text, style),
                "←/→ or space to change".to_string(),
            )
        }
        RedriveField::Filter => (
            input_line(t, &form.filter, focused, input_w),
            "text the message body contains (empty: any)".to_string(),
        ),
        RedriveField::Kind => (
            input_line(t, &form.kind, focused, input_w.min(14)),
            "not_json, schema, invalid, unavailable… (empty: any)".to_string(),
        ),
        RedriveField::Reason => (
            input_line(t, &form.reason, focused, input_w),
            "text the failure reason contains (empty: any)".to_string(),
        ),
        RedriveField::Rate => (
            input_line(t, &form.rate, focused, input_w.min(10)),
            format!(
                "messages per second, {} to {}; empty: backend default",
                REDRIVE_RATE.start(),
                REDRIVE_RATE.end()
            ),
        ),
        RedriveField::Note => (
            input_line(t, &form.note, focused, input_w),
            format!("why, for the audit log (optional, at most {NOTE_MAX_CHARS} characters)"),
        ),
    };
    let error = form.errors.get(&field).cloned();
    [
        Line::from(vec![
            field_label(t, field.label(), REDRIVE_LABEL_W, focused),
            value,
        ]),
        under_field(t, REDRIVE_LABEL_W, width, error, &help),
    ]
}

pub fn render_redrive_form(app: &App, form: &RedriveForm, frame: &mut Frame, area: Rect) {
    let t = &app.view().theme;
    let height = if form.scope == ScopeChoice::Match {
        24
    } else {
        20
    };
    let inner = form_dialog(app, frame, area, ("Redrive the DLQ", t.accent), height);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<REDRIVE_LABEL_W$}", "Source"), t.label),
            Span::styled(form.source.clone(), t.strong),
            Span::styled("  (the DLQ)", t.muted),
        ]),
        Line::from(""),
    ];
    for field in form.fields() {
        lines.extend(redrive_field_lines(app, form, field, inner.width as usize));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "You confirm the count (a filter is counted over the whole DLQ first) and the destination \
         on the next step.",
        t.muted,
    )));
    show_form(app, frame, inner, lines);
}
