//! Views: one `render_*(&App, &mut Frame, Rect)` per pane. No I/O, no clock: `app.now` is the time.

mod age;
mod confirm;
mod consumer;
mod depth;
mod detail;
mod dlq;
mod dlq_browser;
mod failures;
mod footer;
mod gift_form;
mod header;
mod help;
mod redrive_form;
mod redrive_strip;
mod status;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Wrap};

use super::app::{App, Level, Screen};
use super::modal::Modal;
use crate::domain::AgeLevel;

pub use age::render_age;
pub use confirm::render_confirm;
pub use consumer::render_consumer;
pub use depth::render_depth;
pub use detail::render_failure_detail;
pub use dlq::render_dlq;
pub use dlq_browser::render_dlq_browser;
pub use failures::render_failures;
pub use footer::render_footer;
pub use gift_form::render_gift_form;
pub use header::render_header;
pub use help::render_help;
pub use redrive_form::render_redrive_form;
pub use redrive_strip::render_redrive_strip;
pub use status::render_status;

/// Below this size the dashboard is not usable; a notice is drawn instead.
pub const MIN_WIDTH: u16 = 70;
pub const MIN_HEIGHT: u16 = 22;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area);
        return;
    }
    let header_h = 2;
    let strip_h = if redrive_strip::visible(app) { 3 } else { 0 };
    let [header, body, strip, status, footer] = split_rows(area, [header_h, FILL, strip_h, 1, 1]);
    render_header(app, frame, header);
    match app.screen {
        Screen::Dashboard => render_dashboard(app, frame, body),
        Screen::DlqBrowser => render_dlq_browser(app, frame, body),
    }
    if strip_h > 0 {
        render_redrive_strip(app, frame, strip);
    }
    render_status(app, frame, status);
    render_footer(app, frame, footer);
    match &app.modal {
        None => {}
        Some(Modal::Gift(form)) => render_gift_form(app, form, frame, area),
        Some(Modal::Redrive(form)) => render_redrive_form(app, form, frame, area),
        Some(Modal::Confirm(c)) => render_confirm(app, c, frame, area),
        Some(Modal::Help { scroll }) => render_help(app, *scroll, frame, area),
        Some(Modal::FailureDetail(r)) => render_failure_detail(app, r, frame, area),
    }
}

/// The dashboard's panes.
pub fn render_dashboard(app: &App, frame: &mut Frame, area: Rect) {
    let h = area.height;
    let row_b = 6.min(h);
    let row_a = (((h.saturating_sub(row_b)) * 55) / 100)
        .clamp(7, 16)
        .min(h.saturating_sub(row_b));
    let [a, b, c] = split_rows(area, [row_a, row_b, FILL]);
    let age_w = (a.width * 2 / 5).clamp(30, 46).min(a.width);
    let [depth_area, age_area] = split_cols(a, [FILL, age_w]);
    render_depth(app, frame, depth_area);
    render_age(app, frame, age_area);
    let [dlq_area, consumer_area] = split_cols(b, [b.width / 2, FILL]);
    render_dlq(app, frame, dlq_area);
    render_consumer(app, frame, consumer_area);
    render_failures(app, frame, c);
}

fn render_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(Span::styled(
            "terminal too small",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )),
        Line::from(format!(
            "need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}",
            area.width, area.height
        )),
        Line::from("enlarge the window, or q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let inner = Rect {
        y: area.y + top,
        height: area.height.saturating_sub(top),
        ..area
    };
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}

/// A size that takes what the fixed sizes leave.
pub(crate) const FILL: u16 = u16::MAX;

/// Splits rows: fixed heights, and [`FILL`] for what is left (clipped, never panics).
pub(crate) fn split_rows<const N: usize>(area: Rect, heights: [u16; N]) -> [Rect; N] {
    let fixed: u16 = heights
        .iter()
        .copied()
        .filter(|h| *h != FILL)
        .fold(0u16, u16::saturating_add);
    let flex = area.height.saturating_sub(fixed);
    let mut y = area.y;
    let bottom = area.y.saturating_add(area.height);
    heights.map(|h| {
        let want = if h == FILL { flex } else { h };
        let h = want.min(bottom.saturating_sub(y));
        let r = Rect {
            x: area.x,
            y,
            width: area.width,
            height: h,
        };
        y = y.saturating_add(h);
        r
    })
}

/// Splits columns like [`split_rows`].
pub(crate) fn split_cols<const N: usize>(area: Rect, widths: [u16; N]) -> [Rect; N] {
    let fixed: u16 = widths
        .iter()
        .copied()
        .filter(|w| *w != FILL)
        .fold(0u16, u16::saturating_add);
    let flex = area.width.saturating_sub(fixed);
    let mut x = area.x;
    let right = area.x.saturating_add(area.width);
    widths.map(|w| {
        let want = if w == FILL { flex } else { w };
        let w = want.min(right.saturating_sub(x));
        let r = Rect {
            x,
            y: area.y,
            width: w,
            height: area.height,
        };
        x = x.saturating_add(w);
        r
    })
}

/// A rectangle of at most `w`x`h`, centred in `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A pane's block.
pub(crate) fn pane(title: impl Into<Line<'static>>) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::DarkGray))
        .title(title.into())
}

/// A modal's block, cleared beneath.
pub(crate) fn modal_block(frame: &mut Frame, area: Rect, title: &str, color: Color) -> Rect {
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

pub(crate) fn title_style() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub(crate) fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub(crate) fn label() -> Style {
    Style::new().fg(Color::Gray)
}

pub(crate) fn key_style() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub(crate) fn level_style(level: Level) -> Style {
    match level {
        Level::Info => Style::new().fg(Color::Cyan),
        Level::Success => Style::new().fg(Color::Green),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

pub(crate) fn severity_style(s: AgeLevel) -> Style {
    match s {
        AgeLevel::Ok => Style::new().fg(Color::Green),
        AgeLevel::Warn => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        AgeLevel::Alarm => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// `12.3`, `0.4`, `1.2k`: compact rates.
pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.1}")
    }
}

/// A short voucher id for tables: the last 8 hex digits (a UUID v7 starts with its timestamp, so
/// ids made in the same minute share their first digits).
pub(crate) fn short_id(id: &str) -> String {
    let clean = crate::domain::text::sanitize(id);
    let n = clean.chars().count();
    if n <= 9 {
        return clean;
    }
    let tail: String = clean.chars().skip(n - 8).collect();
    format!("…{tail}")
}
