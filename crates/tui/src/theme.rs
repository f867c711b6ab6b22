//! The dashboard's look, named by meaning: every view takes its colours and styles from here, so a
//! production skin or a light terminal is one change (another `Theme` value), never a hunt through
//! the views.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

use voucherdeck_core::domain::AgeLevel;

/// Styles by meaning. Views add emphasis (`.bold()`) where a figure needs it, never a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Text that must read clearly: reasons, message bodies, dialog lines.
    pub text: Style,
    /// Figures and names that carry the meaning of a line.
    pub strong: Style,
    /// Captions and field names.
    pub label: Style,
    /// Secondary text: notes, sources, units, axes.
    pub muted: Style,
    /// Pane and section titles.
    pub title: Style,
    /// Healthy, done, accepted.
    pub ok: Style,
    /// In progress, neutral news.
    pub info: Style,
    /// Worth a look: paused, slow, retrying, selected for an action.
    pub warn: Style,
    /// Failed.
    pub error: Style,
    /// Needs attention now: stale data, an alarm, a stopped worker.
    pub alarm: Style,
    /// A mode that changes what is shown or done (grouping, redrive).
    pub accent: Style,
    /// A badge on the header or a figure: brand, warning, alarm.
    pub badge: Style,
    pub badge_warn: Style,
    pub badge_alarm: Style,
    /// The header's first line: plain, or the skin of a production pipeline.
    pub header: Style,
    /// The header's first line while an alarm is in ALARM.
    pub header_alarm: Style,
    /// Pane borders.
    pub border: Style,
    pub border_type: BorderType,
    /// The focused pane's border and a focused field's label.
    pub focus: Style,
    pub focus_border_type: BorderType,
    /// Modal dialogs' borders (coloured by what the dialog does).
    pub modal_border_type: BorderType,
    /// A key in a hint (`n` in "n gift").
    pub key_hint: Style,
    /// A table's column names.
    pub table_header: Style,
    /// The row under the cursor.
    pub selection: Style,
    /// Rows picked for an action.
    pub marked: Style,
    /// A text field, and the one being typed in.
    pub input: Style,
    pub input_focused: Style,
    /// Text being edited in a title (the failures filter).
    pub editing: Style,
    /// The empty part of a progress bar.
    pub gauge_track: Style,
    /// The depth chart's series.
    pub series_visible: Style,
    pub series_in_flight: Style,
    pub series_delayed: Style,
    pub series_total: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    /// Light text on a dark terminal.
    pub const fn dark() -> Theme {
        Theme {
            text: fg(Color::White),
            strong: bold(Style::new()),
            label: fg(Color::Gray),
            muted: fg(Color::DarkGray),
            title: bold(fg(Color::Cyan)),
            ok: fg(Color::Green),
            info: fg(Color::Cyan),
            warn: fg(Color::Yellow),
            error: fg(Color::Red),
            alarm: bold(fg(Color::Red)),
            accent: fg(Color::Magenta),
            badge: on(Color::Cyan),
            badge_warn: on(Color::Yellow),
            badge_alarm: on(Color::Red),
            header: Style::new(),
            header_alarm: bold(Style::new().fg(Color::White).bg(Color::Red)),
            border: fg(Color::DarkGray),
            border_type: BorderType::Rounded,
            focus: fg(Color::Cyan),
            focus_border_type: BorderType::Thick,
            modal_border_type: BorderType::Double,
            key_hint: Style::new().fg(Color::Black).bg(Color::Cyan),
            table_header: bold(fg(Color::Gray)),
            selection: bold(Style::new().bg(Color::DarkGray)),
            marked: fg(Color::Yellow),
            input: Style::new().fg(Color::White).bg(Color::DarkGray),
            input_focused: Style::new().fg(Color::White).bg(Color::Blue),
            editing: Style::new().fg(Color::Black).bg(Color::Yellow),
            gauge_track: Style::new().bg(Color::Black),
            series_visible: fg(Color::Cyan),
            series_in_flight: fg(Color::Yellow),
            series_delayed: fg(Color::Magenta),
            series_total: fg(Color::White),
        }
    }

    /// The production skin: the dark theme with a magenta header, brand badge and borders, so a
    /// production pipeline never looks like staging.
    pub const fn production() -> Theme {
        let dark = Theme::dark();
        Theme {
            badge: on(Color::Magenta),
            header: Style::new().fg(Color::White).bg(Color::Magenta),
            border: fg(Color::Magenta),
            focus: fg(Color::LightMagenta),
            ..dark
        }
    }

    /// The skin of a pipeline: production's, or the default.
    pub const fn for_pipeline(production: bool) -> Theme {
        if production {
            Theme::production()
        } else {
            Theme::dark()
        }
    }

    /// An oldest-message age against its thresholds.
    pub fn severity(&self, level: AgeLevel) -> Style {
        match level {
            AgeLevel::Ok => self.ok,
            AgeLevel::Warn => self.warn.add_modifier(Modifier::BOLD),
            AgeLevel::Alarm => self.alarm,
        }
    }
}

const fn fg(color: Color) -> Style {
    Style::new().fg(color)
}

const fn bold(style: Style) -> Style {
    style.add_modifier(Modifier::BOLD)
}

/// A badge: dark bold text on `color`.
const fn on(color: Color) -> Style {
    bold(Style::new().fg(Color::Black).bg(color))
}
