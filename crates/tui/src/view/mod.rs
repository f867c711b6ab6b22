//! Views: one `render_*(&App, &mut Frame, Rect)` per pane. No I/O, no clock: `app.now` is the time.
//! Shared pieces live in `widgets` (and `hints`), never here, so no view imports its parent.

mod dashboard;
mod dlq_browser;
mod dlq_log;
mod fit;
mod footer;
mod header;
mod hints;
mod modal;
mod overview;
mod redrive_strip;
mod status;
mod widgets;

use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Alignment, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, Screen};

use dashboard::render_dashboard;
use dlq_browser::render_dlq_browser;
use dlq_log::render_dlq_log;
use footer::render_footer;
use header::render_header;
use modal::render_modal;
use overview::render_overview;
use redrive_strip::render_redrive_strip;
use status::render_status;

/// Below this size the dashboard is not usable; a notice is drawn instead.
pub const MIN_WIDTH: u16 = 70;
pub const MIN_HEIGHT: u16 = 22;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(app, frame, area);
        return;
    }
    let strip_h = if redrive_strip::visible(app) { 3 } else { 0 };
    let [header, body, strip, status, footer] =
        Layout::vertical([Length(2), Fill(1), Length(strip_h), Length(1), Length(1)]).areas(area);
    render_header(app, frame, header);
    match app.screen {
        Screen::Overview => render_overview(app, frame, body),
        Screen::Dashboard => render_dashboard(app, frame, body),
        // Read-only, the browser does not peek (a peek raises receive counts).
        Screen::DlqBrowser if app.view().info.read_only => render_dlq_log(app, frame, body),
        Screen::DlqBrowser => render_dlq_browser(app, frame, body),
    }
    if strip_h > 0 {
        render_redrive_strip(app, frame, strip);
    }
    render_status(app, frame, status);
    render_footer(app, frame, footer);
    render_modal(app, frame, area);
}

fn render_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(Span::styled(
            "terminal too small",
            app.view().theme.warn.bold(),
        )),
        Line::from(format!(
            "need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}",
            area.width, area.height
        )),
        Line::from("enlarge the window, or q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let [_, inner] = Layout::vertical([Length(top), Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}
