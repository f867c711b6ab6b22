//! Pieces every view uses: blocks, styles, tables, text fields, hint lines, figure formats.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Row, Table};

use crate::domain::AgeLevel;
use crate::domain::text::sanitize;
use crate::tui::app::{App, Level};
use crate::tui::keymap::Layer;

use super::hints::hints;

/// A pane's block.
pub fn pane(title: impl Into<Line<'static>>) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::DarkGray))
        .title(title.into())
}

/// A modal's block, cleared beneath; returns the area inside it.
pub fn modal_block(frame: &mut Frame, area: Rect, title: &str, color: Color) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .padding(Padding::horizontal(1))
        .border_type(BorderType::Double)
        .border_style(Style::new().fg(color))
        .title(Span::styled(
            format!(" {title} "),
            Style::new().fg(color).add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// A rectangle of at most `w`x`h`, centred in `area` (an odd spare row or column goes below or
/// right).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The widths a [`Table`] gives its columns in `width` (its own layout: one space between columns).
pub fn column_widths<const N: usize>(width: u16, columns: [Constraint; N]) -> [u16; N] {
    Layout::horizontal(columns)
        .spacing(1)
        .areas::<N>(Rect::new(0, 0, width, 1))
        .map(|r| r.width)
}

/// A table with a header row and a highlighted cursor row.
pub fn data_table<'a, const N: usize>(
    rows: Vec<Row<'a>>,
    columns: [Constraint; N],
    header: [&'a str; N],
) -> Table<'a> {
    Table::new(rows, columns)
        .header(Row::new(header).style(Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)))
        .row_highlight_style(
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        )
}

/// `key   value`: a labelled line of a detail.
pub fn field_line(key: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<14}"), label()),
        Span::raw(value),
    ])
}

/// The visible tail of a field's text, at most `width` characters, with a cursor when focused.
pub fn input_line(text: &str, focused: bool, width: usize) -> Span<'static> {
    let clean = sanitize(text);
    let room = width.saturating_sub(1);
    let n = clean.chars().count();
    let tail: String = clean.chars().skip(n.saturating_sub(room)).collect();
    let shown = if focused { format!("{tail}▏") } else { tail };
    let pad = width.saturating_sub(shown.chars().count());
    let style = if focused {
        Style::new().fg(Color::White).bg(Color::Blue)
    } else {
        Style::new().fg(Color::White).bg(Color::DarkGray)
    };
    Span::styled(format!("{shown}{}", " ".repeat(pad)), style)
}

/// The keys that apply in a layer now, as one line (for the modals' last line).
pub fn hint_line(app: &App, layer: Layer) -> Line<'static> {
    Line::from(hint_spans(&hints(app, layer), "  ", usize::MAX).0)
}

/// Hints as spans (the key, then its label and `gap`), as many as fit in `room` columns; returns
/// them with the width they take.
pub fn hint_spans(
    hints: &[(String, String)],
    gap: &str,
    room: usize,
) -> (Vec<Span<'static>>, usize) {
    let mut spans = Vec::new();
    let mut width = 0usize;
    for (key, label) in hints {
        let w = key.chars().count() + label.chars().count() + 3 + gap.len();
        if width + w > room {
            break;
        }
        width += w;
        spans.push(Span::styled(format!(" {key} "), key_style()));
        spans.push(Span::raw(format!(" {label}{gap}")));
    }
    (spans, width)
}

pub fn title_style() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn label() -> Style {
    Style::new().fg(Color::Gray)
}

pub fn key_style() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub fn level_style(level: Level) -> Style {
    match level {
        Level::Info => Style::new().fg(Color::Cyan),
        Level::Success => Style::new().fg(Color::Green),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

pub fn severity_style(s: AgeLevel) -> Style {
    match s {
        AgeLevel::Ok => Style::new().fg(Color::Green),
        AgeLevel::Warn => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        AgeLevel::Alarm => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// `12.3`, `0.4`, `1.2k`: compact rates.
pub fn fmt_rate(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.1}")
    }
}

/// A short voucher id for tables: the last 8 hex digits (a UUID v7 starts with its timestamp, so
/// ids made in the same minute share their first digits).
pub fn short_id(id: &str) -> String {
    let clean = sanitize(id);
    let n = clean.chars().count();
    if n <= 9 {
        return clean;
    }
    let tail: String = clean.chars().skip(n - 8).collect();
    format!("…{tail}")
}

/// The log stores masked recipients; mask again anything that does not look masked.
pub fn masked(recipient: Option<&str>) -> String {
    match recipient {
        None => "—".to_string(),
        Some(r) if r.contains('*') || r.contains('…') => sanitize(r),
        Some(r) => sanitize(&crate::domain::mask(r)),
    }
}
