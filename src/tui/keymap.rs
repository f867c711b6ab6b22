//! Key bindings as data: an [`Action`] enum, defaults in `assets/keymap.toml`, an optional user overlay.
//! The footer and the help screen are generated from the same map, so the hints never lie.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// The default bindings, compiled in.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Everything a key can do. Names in the keymap file are the snake_case forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    NextScreen,
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
    PurgeDlq,
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
            Action::NextScreen => "next screen",
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
            Action::CancelRedrive => "cancel redrive",
            Action::PurgeDlq => "purge DLQ",
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
            Action::NextScreen => "Switch between the dashboard and the DLQ browser",
            Action::Back => {
                "Back: leave the detail or the DLQ browser; clear the filter or grouping"
            }
            Action::Gift => "Gift a voucher (form)",
            Action::Redrive => "Redrive the DLQ: all, the selected messages, or a body filter",
            Action::DlqBrowser => "Open the DLQ browser (peeks the DLQ)",
            Action::WorkerToggle => "Pause or resume this dashboard's worker",
            Action::ConcurrencyUp => "Add a receive loop to the worker",
            Action::ConcurrencyDown => "Remove a receive loop from the worker",
            Action::WindowCycle => "Cycle the depth chart window: 5 min, 15 min, 1 h",
            Action::Filter => "Filter the recent failures",
            Action::GroupToggle => "Group the recent failures by reason, with counts",
            Action::Select => "Select or unselect the message under the cursor",
            Action::SelectAll => "Select all listed messages, or none",
            Action::Delete => "Delete the selected messages from the DLQ (asks first)",
            Action::Export => "Export the selected messages (or all listed) to a JSON Lines file",
            Action::Refresh => "Peek the DLQ again",
            Action::Details => "Show the full record",
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::Top => "Go to the first row",
            Action::Bottom => "Go to the last row",
            Action::ScrollUp => "Scroll the detail up",
            Action::ScrollDown => "Scroll the detail down",
            Action::CancelRedrive => "Cancel the running redrive (moves already made stay)",
            Action::PurgeDlq => {
                "Purge the DLQ: deletes every message, irreversible (type its name)"
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
    pub const fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Gift
                | Action::Redrive
                | Action::WorkerToggle
                | Action::ConcurrencyUp
                | Action::ConcurrencyDown
                | Action::Delete
                | Action::CancelRedrive
                | Action::PurgeDlq
        )
    }

    fn from_name(name: &str) -> Option<Action> {
        Action::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name))
            .ok()
    }
}

/// Where a key is looked up. Order of routing: form, confirm, popup, input, screen, global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Global,
    Dashboard,
    DlqBrowser,
    Form,
    Confirm,
    Popup,
    Input,
}

impl Layer {
    pub const ALL: [Layer; 7] = [
        Layer::Global,
        Layer::Dashboard,
        Layer::DlqBrowser,
        Layer::Form,
        Layer::Confirm,
        Layer::Popup,
        Layer::Input,
    ];

    pub const fn title(self) -> &'static str {
        match self {
            Layer::Global => "Everywhere",
            Layer::Dashboard => "Dashboard",
            Layer::DlqBrowser => "DLQ browser",
            Layer::Form => "Forms",
            Layer::Confirm => "Confirm dialogs",
            Layer::Popup => "Help and details",
            Layer::Input => "Filter line",
        }
    }

    fn from_name(name: &str) -> Option<Layer> {
        Layer::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name))
            .ok()
    }
}

/// One key with its modifiers (Shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyBinding {
    /// The binding a key event matches: Shift is dropped for characters (it is in the character) and
    /// for BackTab.
    pub fn from_event(ev: &KeyEvent) -> KeyBinding {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                // Ctrl combos arrive lower-case on most terminals.
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        KeyBinding { code, mods }
    }

    /// Parses `q`, `G`, `ctrl-c`, `esc`, `pagedown`, `f1`, `alt-x`.
    pub fn parse(s: &str) -> Result<KeyBinding, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if rest.chars().count() > 1 {
                if let Some(r) = rest.strip_prefix("ctrl-") {
                    mods |= KeyModifiers::CONTROL;
                    rest = r;
                    continue;
                }
                if let Some(r) = rest.strip_prefix("alt-") {
                    mods |= KeyModifiers::ALT;
                    rest = r;
                    continue;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            (None, _) => return Err(format!("empty key in {s:?}")),
            _ => match rest.to_ascii_lowercase().as_str() {
                "esc" | "escape" => KeyCode::Esc,
                "enter" | "return" => KeyCode::Enter,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                other => match other.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    Some(n) if (1..=24).contains(&n) => KeyCode::F(n),
                    _ => return Err(format!("unknown key {s:?}")),
                },
            },
        };
        Ok(KeyBinding { code, mods })
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Insert => f.write_str("ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A keymap error, naming where the bad entry is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keymap {source_name}: {message}")]
pub struct KeyMapError {
    pub source_name: String,
    pub message: String,
}

/// Bindings per layer, in declaration order of [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    layers: BTreeMap<Layer, BTreeMap<Action, Vec<KeyBinding>>>,
}

type RawMap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl KeyMap {
    /// The compiled-in defaults.
    pub fn defaults() -> KeyMap {
        match KeyMap::empty().overlay_str(DEFAULT_KEYMAP, "assets/keymap.toml") {
            Ok(map) => map,
            Err(e) => {
                // The embedded file is covered by a test; never reached in a released build.
                tracing::error!("{e}");
                KeyMap::empty()
            }
        }
    }

    fn empty() -> KeyMap {
        KeyMap {
            layers: BTreeMap::new(),
        }
    }

    /// The defaults overlaid with a user file, if it exists. A missing file is not an error when
    /// `required` is false (the default location); a malformed one always is.
    pub fn load(path: Option<&Path>, required: bool) -> Result<KeyMap, KeyMapError> {
        let defaults = KeyMap::defaults();
        let Some(path) = path else {
            return Ok(defaults);
        };
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => defaults.overlay_str(&text, &name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(defaults),
            Err(e) => Err(KeyMapError {
                source_name: name,
                message: e.to_string(),
            }),
        }
    }

    /// Overlays bindings given as TOML text: each named action gets exactly the listed keys.
    pub fn overlay_str(mut self, text: &str, source_name: &str) -> Result<KeyMap, KeyMapError> {
        let err = |message: String| KeyMapError {
            source_name: source_name.to_string(),
            message,
        };
        let raw: RawMap = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for (layer_name, actions) in raw {
            let layer = Layer::from_name(&layer_name).ok_or_else(|| {
                err(format!(
                    "unknown layer [{layer_name}] (layers: global, dashboard, dlq_browser, form, confirm, popup, input)"
                ))
            })?;
            for (action_name, keys) in actions {
                let action = Action::from_name(&action_name)
                    .ok_or_else(|| err(format!("[{layer_name}] unknown action {action_name:?}")))?;
                let parsed = keys
                    .iter()
                    .map(|k| KeyBinding::parse(k))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(format!("[{layer_name}] {action_name}: {e}")))?;
                self.layers.entry(layer).or_default().insert(action, parsed);
            }
        }
        Ok(self)
    }

    /// The action a key triggers in one layer.
    pub fn action(&self, layer: Layer, key: &KeyEvent) -> Option<Action> {
        let kb = KeyBinding::from_event(key);
        self.layers
            .get(&layer)?
            .iter()
            .find(|(_, keys)| keys.contains(&kb))
            .map(|(a, _)| *a)
    }

    /// The bindings of one layer, in [`Action`] order.
    pub fn bindings(&self, layer: Layer) -> impl Iterator<Item = (Action, &[KeyBinding])> {
        self.layers
            .get(&layer)
            .into_iter()
            .flat_map(|m| m.iter().map(|(a, k)| (*a, k.as_slice())))
    }

    /// The first key bound to an action in a layer, for hints (`"n"`), or `None` when unbound.
    pub fn first_key(&self, layer: Layer, action: Action) -> Option<KeyBinding> {
        self.layers.get(&layer)?.get(&action)?.first().copied()
    }

    /// Like [`KeyMap::first_key`], as text; `"?"` placeholders never appear: unbound gives `"(unbound)"`.
    pub fn hint(&self, layer: Layer, action: Action) -> String {
        self.first_key(layer, action)
            .map_or_else(|| "(unbound)".to_string(), |k| k.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_parse_and_route() {
        let map = KeyMap::empty()
            .overlay_str(DEFAULT_KEYMAP, "default")
            .expect("default keymap parses");
        assert_eq!(
            map.action(Layer::Global, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(
                Layer::Global,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('g'), KeyModifiers::NONE)
            ),
            Some(Action::Top)
        );
        assert_eq!(
            map.action(Layer::Form, &key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevField)
        );
        assert_eq!(
            map.action(
                Layer::DlqBrowser,
                &key(KeyCode::Char(' '), KeyModifiers::NONE)
            ),
            Some(Action::Select)
        );
        assert_eq!(map.hint(Layer::Dashboard, Action::Gift), "n");
    }

    #[test]
    fn every_layer_has_its_exit() {
        let map = KeyMap::defaults();
        assert!(map.first_key(Layer::Global, Action::Quit).is_some());
        assert!(map.first_key(Layer::Form, Action::Cancel).is_some());
        assert!(map.first_key(Layer::Confirm, Action::Cancel).is_some());
        assert!(map.first_key(Layer::Popup, Action::Close).is_some());
        assert!(map.first_key(Layer::Input, Action::Cancel).is_some());
    }

    #[test]
    fn overlay_replaces_keys_of_named_actions() {
        let map = KeyMap::defaults()
            .overlay_str("[dashboard]\ngift = [\"ctrl-g\", \"F2\"]\n", "user")
            .expect("overlay");
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('n'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('g'), KeyModifiers::CONTROL)
            ),
            Some(Action::Gift)
        );
        assert_eq!(
            map.action(Layer::Dashboard, &key(KeyCode::F(2), KeyModifiers::NONE)),
            Some(Action::Gift)
        );
        assert_eq!(map.hint(Layer::Dashboard, Action::Gift), "ctrl-g");
        // Untouched actions keep their defaults.
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('r'), KeyModifiers::NONE)
            ),
            Some(Action::Redrive)
        );
    }

    #[test]
    fn overlay_errors_name_the_entry() {
        let e = KeyMap::defaults()
            .overlay_str("[dashboard]\nfly = [\"f\"]\n", "user.toml")
            .expect_err("bad action");
        assert!(e.to_string().contains("fly"), "{e}");
        let e = KeyMap::defaults()
            .overlay_str("[nowhere]\nquit = [\"q\"]\n", "user.toml")
            .expect_err("bad layer");
        assert!(e.to_string().contains("nowhere"), "{e}");
        let e = KeyMap::defaults()
            .overlay_str("[global]\nquit = [\"hyper-q\"]\n", "user.toml")
            .expect_err("bad key");
        assert!(e.to_string().contains("hyper-q"), "{e}");
    }

    #[test]
    fn key_names_round_trip() {
        for s in [
            "q", "G", "ctrl-c", "esc", "enter", "tab", "space", "F5", "alt-x", "pagedown", "-", "+",
        ] {
            let k = KeyBinding::parse(s).expect("parses");
            let again =
                KeyBinding::parse(&k.to_string().replace('↑', "up").replace("pgdn", "pagedown"));
            assert_eq!(again, Ok(k), "{s}");
        }
    }
}
