//! Pieces every view uses: blocks, styles, tables, text fields, hint lines, figure formats.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::ops::Range;

use ratatui::widgets::{Block, Borders, Clear, Padding, Row, Table, TableState};

use crate::app::App;
use crate::focus::Pane;
use crate::keymap::Layer;
use crate::theme::Theme;
use voucherdeck_core::domain::AlarmState;
use voucherdeck_core::domain::text::sanitize;

use super::hints::hints;

/// A pane's block.
pub fn pane(t: &Theme, title: impl Into<Line<'static>>) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(t.border_type)
        .border_style(t.border)
        .title(title.into())
}

/// A dashboard pane's block: drawn as focused when the pane has the focus.
pub fn pane_block(app: &App, pane: Pane, title: impl Into<Line<'static>>) -> Block<'static> {
    let t = &app.view().theme;
    let block = self::pane(t, title);
    if app.view().focus == pane {
        block.border_type(t.focus_border_type).border_style(t.focus)
    } else {
        block
    }
}

/// A modal's block in `style` (the colour of what the dialog does), cleared beneath; returns the area
/// inside it.
pub fn modal_block(t: &Theme, frame: &mut Frame, area: Rect, title: &str, style: Style) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .padding(Padding::horizontal(1))
        .border_type(t.modal_border_type)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style.bold()));
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

/// The rows a [`data_table`] of `len` rows shows in `height` lines (its header takes one) with
/// the cursor on row `cursor`: the first screen, or the screen that ends at the cursor, as a table
/// scrolls with a fresh state. Views build only these rows, so a frame costs the same for 10 rows
/// or 1,000.
pub fn visible_rows(len: usize, cursor: usize, height: u16) -> Range<usize> {
    let fits = usize::from(height.saturating_sub(1));
    let cursor = cursor.min(len.saturating_sub(1));
    let start = (cursor + 1).saturating_sub(fits);
    start..(start + fits).min(len)
}

/// Renders a [`data_table`] of `len` rows with the cursor on row `cursor`, building only the rows
/// on screen (`row(i)` builds row `i`).
pub fn render_data_table<'a, const N: usize>(
    frame: &mut Frame,
    area: Rect,
    t: &Theme,
    (columns, header): ([Constraint; N], [&'a str; N]),
    (len, cursor): (usize, usize),
    row: impl Fn(usize) -> Row<'a>,
) {
    let window = visible_rows(len, cursor, area.height);
    let selected = cursor
        .min(len.saturating_sub(1))
        .saturating_sub(window.start);
    let rows: Vec<Row<'a>> = window.map(row).collect();
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(data_table(t, rows, columns, header), area, &mut state);
}

/// A table with a header row and a highlighted cursor row.
pub fn data_table<'a, const N: usize>(
    t: &Theme,
    rows: Vec<Row<'a>>,
    columns: [Constraint; N],
    header: [&'a str; N],
) -> Table<'a> {
    Table::new(rows, columns)
        .header(Row::new(header).style(t.table_header))
        .row_highlight_style(t.selection)
}

/// `key   value`: a labelled line of a detail.
pub fn field_line(t: &Theme, key: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<14}"), t.label),
        Span::raw(value),
    ])
}

/// The visible tail of a field's text, at most `width` characters, with a cursor when focused.
pub fn input_line(t: &Theme, text: &str, focused: bool, width: usize) -> Span<'static> {
    let clean = sanitize(text);
    let room = width.saturating_sub(1);
    let n = clean.chars().count();
    let tail: String = clean.chars().skip(n.saturating_sub(room)).collect();
    let shown = if focused { format!("{tail}▏") } else { tail };
    let pad = width.saturating_sub(shown.chars().count());
    let style = if focused { t.input_focused } else { t.input };
    Span::styled(format!("{shown}{}", " ".repeat(pad)), style)
}

/// The keys that apply in a layer now, as one line (for the modals' last line).
pub fn hint_line(app: &App, layer: Layer) -> Line<'static> {
    Line::from(hint_spans(&app.view().theme, &hints(app, layer), "  ", usize::MAX).0)
}

/// Hints as spans (the key, then its label and `gap`), as many as fit in `room` columns; returns
/// them with the width they take.
pub fn hint_spans(
    t: &Theme,
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
        spans.push(Span::styled(format!(" {key} "), t.key_hint));
        spans.push(Span::raw(format!(" {label}{gap}")));
    }
    (spans, width)
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
        Some(r) => sanitize(&voucherdeck_core::domain::mask(r)),
    }
}

/// How an alarm state reads: its mark, word and style.
pub fn alarm_state_look(t: &Theme, state: AlarmState) -> (&'static str, &'static str, Style) {
    match state {
        AlarmState::Alarm => ("●", "ALARM", t.alarm),
        AlarmState::Ok => ("●", "OK", t.ok),
        AlarmState::InsufficientData => ("○", "NODATA", t.muted),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::layout::Constraint::Fill;

    use super::*;

    /// What a table of every row shows with a fresh state: the reference for the windowed one.
    fn whole_table(len: usize, cursor: usize, height: u16) -> ratatui::buffer::Buffer {
        let t = Theme::default();
        let mut term = Terminal::new(TestBackend::new(20, height)).expect("terminal");
        term.draw(|f| {
            let rows = (0..len)
                .map(|i| Row::new(vec![format!("row {i}")]))
                .collect();
            let mut state = TableState::default().with_selected(Some(cursor));
            let table = data_table(&t, rows, [Fill(1)], ["name"]);
            f.render_stateful_widget(table, f.area(), &mut state);
        })
        .expect("draw")
        .buffer
        .clone()
    }

    fn windowed_table(len: usize, cursor: usize, height: u16) -> ratatui::buffer::Buffer {
        let t = Theme::default();
        let mut term = Terminal::new(TestBackend::new(20, height)).expect("terminal");
        term.draw(|f| {
            let columns = ([Fill(1)], ["name"]);
            render_data_table(f, f.area(), &t, columns, (len, cursor), |i| {
                Row::new(vec![format!("row {i}")])
            });
        })
        .expect("draw")
        .buffer
        .clone()
    }

    #[test]
    fn a_table_built_from_its_visible_rows_looks_like_the_whole_table() {
        for (len, cursor, height) in [
            (0, 0, 6),
            (3, 1, 6),
            (30, 0, 6),
            (30, 4, 6),
            (30, 5, 6),
            (30, 25, 6),
            (30, 29, 6),
            (30, 99, 6),
            (30, 7, 1),
            (1000, 640, 12),
        ] {
            assert_eq!(
                windowed_table(len, cursor, height),
                whole_table(len, cursor, height),
                "{len} rows, cursor {cursor}, {height} lines"
            );
        }
    }

    #[test]
    fn visible_rows_end_at_the_cursor_once_past_the_first_screen() {
        assert_eq!(visible_rows(1000, 0, 11), 0..10);
        assert_eq!(visible_rows(1000, 9, 11), 0..10);
        assert_eq!(visible_rows(1000, 10, 11), 1..11);
        assert_eq!(visible_rows(1000, 999, 11), 990..1000);
        assert_eq!(visible_rows(4, 2, 11), 0..4);
        assert_eq!(visible_rows(0, 0, 11), 0..0);
        assert!(visible_rows(10, 3, 0).is_empty());
    }
}
