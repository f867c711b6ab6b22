//! What a key can do ([`Action`]) and where it is looked up ([`Layer`]), with the words the footer
//! and the help use for them.

use serde::de::DeserializeOwned;
use serde::de::value::{Error, StrDeserializer};
use serde::{Deserialize, Serialize};
use strum::VariantArray;

/// Everything a key can do. Names in the keymap file are the snake_case forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Overview,
    NextScreen,
    FocusNext,
    FocusPrev,
    Back,
    Gift,
    Redrive,
    CancelRedrive,
    DlqBrowser,
    WorkerToggle,
    ConcurrencyUp,
    ConcurrencyDown,
    WindowCycle,
    Filter,
    GroupToggle,
    Select,
    SelectAll,
    Delete,
    Export,
    Refresh,
    Details,
    Up,
    Down,
    Top,
    Bottom,
    ScrollUp,
    ScrollDown,
    NextPage,
    PrevPage,
    LoadAll,
    Resend,
    PurgeDlq,
    AuditLog,
    Confirm,
    Submit,
    NextField,
    PrevField,
    OptionNext,
    OptionPrev,
    ClearField,
    Cancel,
    Close,
}

impl Action {
    /// A short label for the footer.
    pub const fn label(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Overview => "pipelines",
            Action::NextScreen => "next screen",
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::Back => "back",
            Action::Gift => "gift",
            Action::Redrive => "redrive",
            Action::DlqBrowser => "DLQ",
            Action::WorkerToggle => "worker",
            Action::ConcurrencyUp => "more workers",
            Action::ConcurrencyDown => "fewer workers",
            Action::WindowCycle => "window",
            Action::Filter => "filter",
            Action::GroupToggle => "by reason",
            Action::Select => "select",
            Action::SelectAll => "all",
            Action::Delete => "delete",
            Action::Export => "export",
            Action::Refresh => "refresh",
            Action::Details => "details",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::ScrollUp => "scroll up",
            Action::ScrollDown => "scroll down",
            Action::NextPage => "next page",
            Action::PrevPage => "previous page",
            Action::LoadAll => "load all",
            Action::Resend => "edit & resend",
            Action::CancelRedrive => "cancel redrive",
            Action::PurgeDlq => "purge DLQ",
            Action::AuditLog => "audit",
            Action::Submit => "submit",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::OptionNext => "next option",
            Action::OptionPrev => "previous option",
            Action::ClearField => "clear field",
            Action::Cancel => "cancel",
            Action::Confirm => "confirm",
            Action::Close => "close",
        }
    }

    /// A sentence for the help screen.
    pub const fn describe(self) -> &'static str {
        match self {
            Action::Quit => "Quit (stops this dashboard's worker; queued messages stay queued)",
            Action::Help => "Show this help",
            Action::Overview => {
                "Every configured pipeline on one screen, most troubled first (Enter opens one)"
            }
            Action::NextScreen => "Switch between the dashboard and the DLQ browser",
            Action::FocusNext => "Focus the next pane (the focused pane takes the moving keys)",
            Action::FocusPrev => "Focus the previous pane",
            Action::Back => {
                "Back: leave the detail or the DLQ browser; clear the filter or grouping; then to \
                 the pipelines"
            }
            Action::Gift => "Gift a voucher (form)",
            Action::Redrive => {
                "Redrive the DLQ: all, the selected messages, or a filter (body, kind, reason)"
            }
            Action::DlqBrowser => "Open the DLQ browser (peeks the DLQ)",
            Action::WorkerToggle => "Pause or resume this dashboard's worker",
            Action::ConcurrencyUp => "Add a receive loop to the worker",
            Action::ConcurrencyDown => "Remove a receive loop from the worker",
            Action::WindowCycle => "Cycle the depth chart window: 5 min, 15 min, 1 h",
            Action::Filter => "Filter the list (failures; in the DLQ browser every loaded message)",
            Action::GroupToggle => "Group the recent failures by reason, with counts",
            Action::Select => "Select or unselect the message under the cursor",
            Action::SelectAll => "Select every loaded message that passes the filter, or none",
            Action::Delete => "Delete the selected messages from the DLQ (asks first)",
            Action::Export => {
                "Export the selected messages, or the whole DLQ, to a JSON Lines file (the \
                 messages stay in the DLQ)"
            }
            Action::Refresh => "Peek the DLQ again (a receive: raises receive counts)",
            Action::Details => "Show the full record",
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::Top => "Go to the first row",
            Action::Bottom => "Go to the last row",
            Action::ScrollUp => "Scroll the detail up",
            Action::ScrollDown => "Scroll the detail down",
            Action::NextPage => {
                "Next page of the DLQ (reads 100 more: 10 receives, each raising receive counts; \
                 earlier pages stay hidden while the browser is open)"
            }
            Action::PrevPage => "Previous page (already read: costs nothing)",
            Action::LoadAll => {
                "Read the whole DLQ, so the filter and the selection cover every message (one \
                 receive per 10 messages)"
            }
            Action::Resend => {
                "Edit the message's gift ($VISUAL/$EDITOR, or a form) and resend it to its source \
                 queue; the original is deleted after the send"
            }
            Action::CancelRedrive => "Cancel the running redrive (moves already made stay)",
            Action::PurgeDlq => {
                "Purge the DLQ: deletes every message, irreversible (type its name)"
            }
            Action::AuditLog => {
                "Show the audit log: the last operator actions (who, when, what, how many, outcome)"
            }
            Action::Submit => "Submit the form",
            Action::NextField => "Next field",
            Action::PrevField => "Previous field",
            Action::OptionNext => "Next choice (redrive scope)",
            Action::OptionPrev => "Previous choice (redrive scope)",
            Action::ClearField => "Clear the field",
            Action::Cancel => "Cancel",
            Action::Confirm => "Confirm",
            Action::Close => "Close",
        }
    }

    /// Whether the action changes queues, vouchers or the worker (disabled in read-only mode).
    /// Every action is named, so a new one cannot slip past read-only mode unclassified.
    pub const fn is_mutating(self) -> bool {
        match self {
            Action::Gift
            | Action::Redrive
            | Action::WorkerToggle
            | Action::ConcurrencyUp
            | Action::ConcurrencyDown
            | Action::Delete
            | Action::Resend
            | Action::CancelRedrive
            | Action::PurgeDlq
            // Peeking again is a receive: it raises receive counts.
            | Action::Refresh => true,
            Action::Quit
            | Action::Help
            | Action::Overview
            | Action::NextScreen
            | Action::FocusNext
            | Action::FocusPrev
            | Action::Back
            | Action::DlqBrowser
            | Action::WindowCycle
            | Action::Filter
            | Action::GroupToggle
            | Action::Select
            | Action::SelectAll
            | Action::Export
            | Action::Details
            | Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::ScrollUp
            | Action::ScrollDown
            | Action::NextPage
            | Action::PrevPage
            | Action::LoadAll
            | Action::AuditLog
            | Action::Confirm
            | Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::OptionNext
            | Action::OptionPrev
            | Action::ClearField
            | Action::Cancel
            | Action::Close => false,
        }
    }
}

/// Where a key is looked up. Order of routing: form, confirm, popup, input, screen, global.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, VariantArray,
)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Global,
    Overview,
    Dashboard,
    DlqBrowser,
    Form,
    Confirm,
    Popup,
    Input,
}

impl Layer {
    /// Every layer, in declaration order (derived, so a new layer cannot be left out).
    pub const ALL: &'static [Layer] = Layer::VARIANTS;

    pub const fn title(self) -> &'static str {
        match self {
            Layer::Global => "Everywhere",
            Layer::Overview => "Every pipeline",
            Layer::Dashboard => "Dashboard",
            Layer::DlqBrowser => "DLQ browser",
            Layer::Form => "Forms",
            Layer::Confirm => "Confirm dialogs",
            Layer::Popup => "Help and details",
            Layer::Input => "Filter line",
        }
    }
}

/// An action or a layer by its snake_case name in the keymap file.
pub(super) fn from_name<T: DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(StrDeserializer::<Error>::new(name)).ok()
}
